from django.urls import path

from runs import views

urlpatterns = [
    path("runs/", views.runs_page, name="runs-page"),
    path("runs/<uuid:run_id>", views.run_page, name="run-page"),
    path("approve/<str:token>", views.approval_page, name="approval-page"),
]
