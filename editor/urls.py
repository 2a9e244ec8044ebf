from django.urls import path

from editor import views

urlpatterns = [
    path("flows/", views.flows_page, name="flows-page"),
    path("flows/new", views.editor_page, name="flow-new"),
    path("flows/<path:path>/edit", views.editor_page, name="flow-edit"),
]
