"""Who may see and act on a run: its creator, whoever may see its flow, and staff."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from editor.models import Flow
from runs.models import Run


def runs_visible_to(user) -> QuerySet[Run]:
    if not user.is_authenticated:
        return Run.objects.none()
    if user.is_staff:
        return Run.objects.all()
    flows = Flow.objects.visible_to(user).values("pk")
    return Run.objects.filter(Q(created_by=user) | Q(flow__in=flows)).distinct()


def can_see_run(user, run: Run) -> bool:
    return runs_visible_to(user).filter(pk=run.pk).exists()
