"""Admin for flows (validated and versioned like API saves), versions (read-only) and scripts."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from editor import flowstore
from editor.models import Flow, FlowVersion, Script
from editor.scripts import infer_schema


class FlowAdminForm(forms.ModelForm):
    class Meta:
        model = Flow
        fields = ["path", "owner", "openflow", "shared_with", "shared_with_groups"]

    def clean_path(self):
        path = self.cleaned_data["path"]
        if self.instance.pk is None or path != self.instance.path:
            errors = flowstore.path_errors(path, None)
            if errors:
                raise forms.ValidationError(errors[0].message)
        return path

    def clean_openflow(self):
        openflow = self.cleaned_data["openflow"]
        if isinstance(openflow, dict) and "path" in openflow:
            openflow = {k: v for k, v in openflow.items() if k != "path"}
        errors = flowstore.validate_openflow(openflow)
        if errors:
            raise forms.ValidationError([f"{e.path or '/'}: {e.message}" for e in errors[:50]])
        return openflow


class FlowVersionInline(admin.TabularInline):
    model = FlowVersion
    fields = ["number", "created_at", "created_by", "message"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    form = FlowAdminForm
    list_display = ["path", "summary", "owner", "updated_at"]
    list_filter = ["owner"]
    search_fields = ["path", "summary"]
    readonly_fields = ["summary", "created_at", "updated_at"]
    filter_horizontal = ["shared_with", "shared_with_groups"]
    inlines = [FlowVersionInline]

    def save_model(self, request, obj, form, change):
        # The admin wraps this in a transaction: the row and its version are saved together.
        obj.summary = flowstore.summary_of(obj.openflow)
        super().save_model(request, obj, form, change)
        if not change or "openflow" in form.changed_data:
            FlowVersion.objects.create(
                flow=obj,
                number=flowstore.next_version_number(obj),
                openflow=obj.openflow,
                created_by=request.user,
                message="saved in the admin",
            )


@admin.register(FlowVersion)
class FlowVersionAdmin(admin.ModelAdmin):
    list_display = ["flow", "number", "created_at", "created_by", "message"]
    list_filter = ["created_at"]
    search_fields = ["flow__path", "message"]
    list_select_related = ["flow", "created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Script)
class ScriptAdmin(admin.ModelAdmin):
    list_display = ["path", "language", "summary", "owner", "updated_at"]
    list_filter = ["language"]
    search_fields = ["path", "summary"]
    filter_horizontal = ["shared_with", "shared_with_groups"]

    def save_model(self, request, obj, form, change):
        if not obj.schema:
            obj.schema = infer_schema(obj.language, obj.content)
        super().save_model(request, obj, form, change)
