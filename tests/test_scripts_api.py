"""Scripts API and schema inference from main's signature (python3 / deno / bash)."""

from __future__ import annotations

import pytest

from editor.models import Script
from editor.scripts import infer_schema
from tests.fixtures_flows import fast_passwords  # noqa: F401 - autouse fixture

URL = "/api/scripts/"
PY = "def main(name: str, times: int = 2, loud: bool = False):\n    return name * times\n"


def make(api, path="f/lib/greet", language="python3", content=PY, **extra):
    return api.post(URL, {"path": path, "language": language, "content": content, **extra}, format="json")


# --- API -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_script_infers_schema(api):
    response = make(api)
    assert response.status_code == 201
    schema = response.json()["schema"]
    assert schema["required"] == ["name"]
    assert schema["properties"]["times"] == {"type": "integer", "default": 2}
    assert Script.objects.get(path="f/lib/greet").owner.username == "alice"


@pytest.mark.django_db
def test_explicit_schema_is_kept(api):
    schema = {"type": "object", "properties": {"x": {"type": "string"}}}
    assert make(api, schema=schema).json()["schema"] == schema


@pytest.mark.django_db
def test_get_script_by_path(api):
    make(api)
    body = api.get(URL + "f/lib/greet").json()
    assert (body["path"], body["language"], body["content"]) == ("f/lib/greet", "python3", PY)


@pytest.mark.django_db
def test_list_scripts_filters_by_prefix_and_language(api):
    make(api, "f/lib/a")
    make(api, "f/other/b", language="bash", content='name="$1"\necho $name\n')
    assert [s["path"] for s in api.get(URL, {"path_prefix": "f/lib/"}).json()["results"]] == ["f/lib/a"]
    assert [s["path"] for s in api.get(URL, {"language": "bash"}).json()["results"]] == ["f/other/b"]


@pytest.mark.django_db
def test_patch_content_reinfers_schema(api):
    make(api)
    response = api.patch(URL + "f/lib/greet", {"content": "def main(city: str):\n    return city\n"}, format="json")
    assert response.status_code == 200
    assert list(response.json()["schema"]["properties"]) == ["city"]


@pytest.mark.django_db
def test_patch_of_summary_keeps_an_explicit_schema(api):
    schema = {"type": "object", "properties": {"x": {"type": "string"}}}
    make(api, schema=schema)
    response = api.patch(URL + "f/lib/greet", {"summary": "hi"}, format="json")
    assert response.json()["schema"] == schema


@pytest.mark.django_db
def test_put_replaces_script(api):
    make(api)
    response = api.put(
        URL + "f/lib/greet", {"path": "f/lib/greet", "language": "bash", "content": 'a="$1"\n'}, format="json"
    )
    assert response.status_code == 200
    assert Script.objects.get(path="f/lib/greet").language == "bash"


@pytest.mark.django_db
def test_delete_script(api):
    make(api)
    assert api.delete(URL + "f/lib/greet").status_code == 204
    assert not Script.objects.exists()


@pytest.mark.django_db
def test_unknown_language_is_400(api):
    response = make(api, language="cobol")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/language"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["lib/x", "hub/1/x", "u/bob/x", "f/lib/share"])
def test_bad_script_paths_are_400_at_path(api, path):
    response = make(api, path=path)
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["/path"]


@pytest.mark.django_db
def test_duplicate_script_path_is_400(api):
    make(api)
    response = make(api)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/path"


@pytest.mark.django_db
def test_renaming_a_script_is_refused(api):
    make(api)
    response = api.patch(URL + "f/lib/greet", {"path": "f/lib/other"}, format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_schema_that_is_not_an_object_is_400(api):
    response = make(api, schema=[1])
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/schema"


@pytest.mark.django_db
def test_malformed_json_script_body_is_400(api):
    assert api.post(URL, data="{", content_type="application/json").status_code == 400


@pytest.mark.django_db
def test_non_object_script_body_is_400(api):
    assert api.post(URL, data="[1]", content_type="application/json").status_code == 400


@pytest.mark.django_db
def test_scripts_of_others_are_404(api, other_user):
    Script.objects.create(path="u/bob/secret", language="bash", content="", owner=other_user)
    assert api.get(URL + "u/bob/secret").status_code == 404
    assert api.delete(URL + "u/bob/secret").status_code == 404
    assert api.get(URL).json()["count"] == 0


@pytest.mark.django_db
def test_shared_script_is_visible(api, user, other_user):
    script = Script.objects.create(path="u/bob/shared", language="bash", content="", owner=other_user)
    script.shared_with.add(user)
    assert api.get(URL + "u/bob/shared").status_code == 200


# --- python inference -------------------------------------------------------------------------------


def test_python_types_and_required():
    schema = infer_schema("python3", "def main(a: str, b: int, c: float = 1.5, d: bool = True, e: dict = None):\n  pass\n")
    assert schema["properties"] == {
        "a": {"type": "string"},
        "b": {"type": "integer"},
        "c": {"type": "number", "default": 1.5},
        "d": {"type": "boolean", "default": True},
        "e": {"type": "object", "default": None},
    }
    assert schema["required"] == ["a", "b"]
    assert schema["order"] == ["a", "b", "c", "d", "e"]


def test_python_optional_and_union_none_are_not_required():
    schema = infer_schema("python3", "from typing import Optional\ndef main(a: Optional[int], b: str | None):\n  pass\n")
    assert schema["required"] == []
    assert schema["properties"] == {"a": {"type": "integer"}, "b": {"type": "string"}}


def test_python_generic_lists_and_literals():
    src = "from typing import Literal\ndef main(xs: list[str], mode: Literal['a', 'b'] = 'a'):\n  pass\n"
    props = infer_schema("python3", src)["properties"]
    assert props["xs"] == {"type": "array", "items": {"type": "string"}}
    assert props["mode"] == {"enum": ["a", "b"], "default": "a"}


def test_python_untyped_default_gives_the_type():
    assert infer_schema("python3", "def main(n=3):\n  pass\n")["properties"]["n"] == {"type": "integer", "default": 3}


def test_python_async_main_and_keyword_only():
    schema = infer_schema("python3", "async def main(a: str, *, b: int = 1, **rest):\n  pass\n")
    assert schema["order"] == ["a", "b"]


def test_python_without_main_or_with_syntax_error_is_none():
    assert infer_schema("python3", "def other():\n  pass\n") is None
    assert infer_schema("python3", "def main(:\n") is None


def test_python_unknown_annotation_is_any():
    assert infer_schema("python3", "def main(x: MyType):\n  pass\n")["properties"]["x"] == {}


# --- deno inference ------------------------------------------------------------------------------------


def test_deno_types_defaults_and_optional():
    src = (
        "export async function main(name: string, count = 2, tags: string[] = [], opts?: { a: number },\n"
        "  mode: 'fast' | 'slow' = 'fast', when: Date, data: Record<string, number> = {}) {\n  return 1;\n}\n"
    )
    schema = infer_schema("deno", src)
    assert schema["order"] == ["name", "count", "tags", "opts", "mode", "when", "data"]
    props = schema["properties"]
    assert props["name"] == {"type": "string"}
    assert props["count"] == {"type": "number", "default": 2} or props["count"] == {"type": "integer", "default": 2}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "default": []}
    assert props["opts"] == {"type": "object"}
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"], "default": "fast"}
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["data"] == {"type": "object", "default": {}}
    assert schema["required"] == ["name", "when"]


def test_deno_non_async_main_with_generic_array():
    schema = infer_schema("deno", "export function main(xs: Array<number>) { return xs }")
    assert schema["properties"]["xs"] == {"type": "array", "items": {"type": "number"}}


def test_deno_without_exported_main_is_none():
    assert infer_schema("deno", "function main(a: string) {}") is None


def test_deno_default_with_comma_inside_string():
    props = infer_schema("deno", 'export function main(sep = ",", n: number) {}')["properties"]
    assert props["sep"] == {"type": "string", "default": ","}


# --- bash inference ---------------------------------------------------------------------------------------


def test_bash_positional_assignments():
    src = '#!/bin/bash\nname="$1"\ncount="${2:-3}"\nflag=$3\necho "$name"\n'
    schema = infer_schema("bash", src)
    assert schema["order"] == ["name", "count", "flag"]
    assert schema["properties"]["count"] == {"type": "string", "default": "3"}
    assert schema["required"] == ["name", "flag"]


def test_bash_without_arguments_has_no_properties():
    assert infer_schema("bash", "echo hi\n")["properties"] == {}


@pytest.mark.django_db
def test_owner_can_share_a_script(api, user, other_user):
    from tests.fixtures_flows import client_for

    make(api)
    assert client_for(other_user).get(URL + "f/lib/greet").status_code == 404
    assert api.post(URL + "f/lib/greet/share", {"users": ["bob"]}, format="json").status_code == 200
    assert client_for(other_user).get(URL + "f/lib/greet").status_code == 200
