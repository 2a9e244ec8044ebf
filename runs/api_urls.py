from django.urls import path, re_path

from runs import api

urlpatterns = [
    re_path(r"^flows/(?P<path>.+)/runs$", api.FlowRunsView.as_view(), name="flow-runs"),
    path("runs/", api.RunListView.as_view(), name="runs"),
    path("runs/<uuid:run_id>", api.RunDetailView.as_view(), name="run-detail"),
    path("runs/<uuid:run_id>/cancel", api.RunCancelView.as_view(), name="run-cancel"),
    path("runs/<uuid:run_id>/restart", api.RunRestartView.as_view(), name="run-restart"),
    path("approvals/resume/<str:token>", api.approval_resume, name="approval-resume"),
    path("approvals/cancel/<str:token>", api.approval_cancel, name="approval-cancel"),
]
