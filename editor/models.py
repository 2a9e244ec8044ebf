"""Flows and scripts as users save them.

A flow is stored as the OpenFlow object it was saved as (``openflow``: summary, description,
schema, value and any extra keys Windmill adds), so exporting gives back exactly what was
imported. ``summary`` is copied into a column for search and listing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class OwnedQuerySet(models.QuerySet):
    def visible_to(self, user) -> OwnedQuerySet:
        """Objects a user may see: their own, shared with them or their groups; staff see all."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(
            Q(owner=user) | Q(shared_with=user) | Q(shared_with_groups__in=user.groups.all())
        ).distinct()


class Owned(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shared_with = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    shared_with_groups = models.ManyToManyField("auth.Group", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        abstract = True

    def can_change(self, user) -> bool:
        return user.is_staff or self.owner_id == user.pk or self.is_shared_with(user)

    def is_shared_with(self, user) -> bool:
        return (
            self.shared_with.filter(pk=user.pk).exists()
            or self.shared_with_groups.filter(pk__in=user.groups.values("pk")).exists()
        )


class Flow(Owned):
    path = models.CharField(max_length=255, unique=True)
    summary = models.CharField(max_length=1000, blank=True)
    openflow = models.JSONField(help_text="The OpenFlow object without 'path'")

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path

    def as_openflow(self) -> dict[str, Any]:
        return {**self.openflow, "path": self.path}


class FlowVersion(models.Model):
    """One immutable snapshot per save."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    openflow = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["flow", "number"], name="unique_flow_version")]

    def __str__(self) -> str:
        return f"{self.flow.path} v{self.number}"


class Script(Owned):
    """A saved script that ``script`` modules reference by path."""

    LANGUAGES = [("python3", "Python 3"), ("deno", "TypeScript (Deno)"), ("bash", "Bash")]

    path = models.CharField(max_length=255, unique=True)
    language = models.CharField(max_length=20, choices=LANGUAGES)
    content = models.TextField()
    summary = models.CharField(max_length=1000, blank=True)
    description = models.TextField(blank=True)
    schema = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path
