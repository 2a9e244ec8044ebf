"""Serializers of the flows and scripts API.

Flows are OpenFlow objects of arbitrary shape (Windmill adds fields over time), so the flow
views read the JSON body directly and validate it with ``editor.openflow.validate_flow``; the
flow serializers here describe the payloads for the OpenAPI schema and render list items and
versions. Scripts are plain model serializers.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from editor.flowstore import path_errors
from editor.models import Flow, FlowVersion, Script
from editor.scripts import infer_schema

# --------------------------------------------------------------------------------------------
# error shape


class ApiErrorItemSerializer(serializers.Serializer):
    path = serializers.CharField(help_text='JSON pointer, e.g. "/value/modules/0/value/iterator"')
    message = serializers.CharField()


class ApiErrorsSerializer(serializers.Serializer):
    errors = ApiErrorItemSerializer(many=True)


class ValidationResultSerializer(ApiErrorsSerializer):
    warnings = ApiErrorItemSerializer(
        many=True,
        required=False,
        help_text="Problems that do not block saving but would stop a run here "
        "(scripts or sub-flows not in this instance, unsupported step kinds).",
    )


# --------------------------------------------------------------------------------------------
# flows


class OpenFlowSerializer(serializers.Serializer):
    """An OpenFlow object plus its path. Any other top-level keys are kept as sent."""

    path = serializers.CharField(help_text='"f/folder/name", "u/user/name" or "g/group/name"')
    summary = serializers.CharField(allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    schema = serializers.JSONField(required=False, allow_null=True, help_text="JSON Schema of the flow inputs")
    value = serializers.JSONField(help_text="FlowValue: modules, failure_module, preprocessor_module, ...")


class OpenFlowPatchSerializer(OpenFlowSerializer):
    """Top-level keys to replace; keys not sent keep their saved value."""

    path = serializers.CharField(required=False)
    summary = serializers.CharField(required=False, allow_blank=True)
    value = serializers.JSONField(required=False)


class ValidateRequestSerializer(serializers.Serializer):
    flow = serializers.JSONField(help_text="The OpenFlow object (the object itself as the body works too)")


class SharingSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField(), required=False, help_text="usernames")
    groups = serializers.ListField(child=serializers.CharField(), required=False, help_text="group names")

    def validate_users(self, names: list[str]) -> list[Any]:
        users = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names)}
        unknown = [n for n in names if n not in users]
        if unknown:
            raise serializers.ValidationError(f"unknown users: {', '.join(unknown)}")
        return [users[n] for n in dict.fromkeys(names)]

    def validate_groups(self, names: list[str]) -> list[Any]:
        groups = {g.name: g for g in Group.objects.filter(name__in=names)}
        unknown = [n for n in names if n not in groups]
        if unknown:
            raise serializers.ValidationError(f"unknown groups: {', '.join(unknown)}")
        return [groups[n] for n in dict.fromkeys(names)]


def sharing_of(obj) -> dict[str, list[str]]:
    return {
        "users": sorted(u.get_username() for u in obj.shared_with.all()),
        "groups": sorted(g.name for g in obj.shared_with_groups.all()),
    }


class SharedWithSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField())
    groups = serializers.ListField(child=serializers.CharField())


class FlowListItemSerializer(serializers.ModelSerializer):
    """A flow in the list: metadata plus the OpenFlow object's description and value."""

    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    description = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField()
    shared_with = serializers.SerializerMethodField()

    class Meta:
        model = Flow
        fields = [
            "path", "summary", "description", "owner", "created_at", "updated_at",
            "version", "shared_with",
        ]

    def get_description(self, obj: Flow) -> str:
        description = obj.openflow.get("description") if isinstance(obj.openflow, dict) else None
        return description if isinstance(description, str) else ""

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_version(self, obj: Flow) -> int | None:
        return getattr(obj, "latest_version", None)

    @extend_schema_field(SharedWithSerializer)
    def get_shared_with(self, obj: Flow) -> dict[str, list[str]]:
        return sharing_of(obj)


class FlowVersionListSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    summary = serializers.SerializerMethodField()

    class Meta:
        model = FlowVersion
        fields = ["number", "created_at", "created_by", "summary", "message"]

    def get_summary(self, obj: FlowVersion) -> str:
        summary = obj.openflow.get("summary") if isinstance(obj.openflow, dict) else None
        return summary if isinstance(summary, str) else ""


class ModuleRefSerializer(serializers.Serializer):
    id = serializers.CharField()
    path = serializers.CharField(help_text="JSON pointer of the module in the version that has it")
    type = serializers.CharField(allow_null=True)


class ModuleChangeSerializer(serializers.Serializer):
    id = serializers.CharField()
    from_path = serializers.CharField()
    to_path = serializers.CharField()
    moved = serializers.BooleanField()
    type = serializers.CharField(allow_null=True)
    fields = serializers.ListField(child=serializers.CharField(), help_text='e.g. ["summary", "value/content"]')


class FieldChangeSerializer(serializers.Serializer):
    path = serializers.CharField(help_text='"/summary", "/schema", "/value/same_worker", ...')
    to = serializers.JSONField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.JSONField(allow_null=True)
        return fields


class FlowDiffSerializer(serializers.Serializer):
    path = serializers.CharField()
    to = serializers.IntegerField()
    added = ModuleRefSerializer(many=True)
    removed = ModuleRefSerializer(many=True)
    changed = ModuleChangeSerializer(many=True)
    fields = FieldChangeSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.IntegerField()
        return fields


# --------------------------------------------------------------------------------------------
# scripts


class ScriptSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    schema = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="JSON Schema of main's arguments; inferred from the signature when not given",
    )
    shared_with = serializers.SerializerMethodField()

    class Meta:
        model = Script
        fields = [
            "path", "language", "content", "summary", "description", "schema",
            "owner", "created_at", "updated_at", "shared_with",
        ]
        extra_kwargs = {
            "path": {"validators": []},  # uniqueness is checked below with a clear message
            "content": {"trim_whitespace": False, "allow_blank": True},
        }

    @extend_schema_field(SharedWithSerializer)
    def get_shared_with(self, obj: Script) -> dict[str, list[str]]:
        return sharing_of(obj)

    def validate_path(self, path: str) -> str:
        request = self.context.get("request")
        if self.instance is not None:
            if path != self.instance.path:
                raise serializers.ValidationError("a script cannot be renamed; create a new one instead")
            return path
        errors = path_errors(path, request.user if request else None, noun="script")
        if errors:
            raise serializers.ValidationError(errors[0].message)
        if Script.objects.filter(path=path).exists():
            raise serializers.ValidationError(f"a script already exists at '{path}'")
        return path

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        schema = attrs.get("schema")
        if schema is not None:
            if not isinstance(schema, dict):
                raise serializers.ValidationError({"schema": "the schema must be a JSON object"})
        elif self.instance is not None and not ({"schema", "content", "language"} & set(attrs)):
            pass  # a PATCH of other fields keeps the saved schema
        else:
            # Not sent (or null): infer from main's signature, with the new content if it changed.
            content = attrs.get("content", self.instance.content if self.instance else "")
            language = attrs.get("language", self.instance.language if self.instance else "")
            attrs["schema"] = infer_schema(language, content)
        return attrs
