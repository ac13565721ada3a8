"""Edit recipes: a YAML list of edits, applied in order by ``pt2trt edit --recipe FILE.yaml``.

::

    # deploy.yaml
    edits:
      - rename_input: {input: images}
      - uint8_nhwc: {input: images, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
      - dynamic_batch: true
      - append: {op: topk, k: 5}
      - set_metadata: {author: deploy-team}

Each entry is one mapping ``{EDIT: VALUE}`` whose key is an edit of :data:`pt2trt.editing.registry.EDITS` and
whose value is what the edit's CLI flag takes (or the same as YAML). A bare list (without ``edits:``) is accepted
too. Every entry is validated before the model is touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.files import existing_file


def parse_recipe(data: Any, source: str = "recipe") -> list[tuple[str, Any]]:
    """Validated ``(key, params)`` pairs from a loaded recipe document."""
    from pt2trt.editing.registry import parse_edit

    if isinstance(data, dict) and set(data) == {"edits"}:
        data = data["edits"]
    if not isinstance(data, list) or not data:
        raise Pt2trtError(
            f"{source} holds no list of edits", "Write `edits:` followed by entries like `- rename_input: {a: b}`"
        )
    parsed = []
    for index, entry in enumerate(data, start=1):
        if isinstance(entry, str):  # a flag edit written bare: `- dynamic_batch`
            entry = {entry: True}
        if not isinstance(entry, dict) or len(entry) != 1:
            raise Pt2trtError(
                f"{source}, edit {index}: expected one `EDIT: VALUE` mapping, got {entry!r}",
                "Write each edit as its own list item",
            )
        ((key, value),) = entry.items()
        try:
            parsed.append(parse_edit(str(key), value))
        except UsageError as exc:
            raise Pt2trtError(f"{source}, edit {index}: {exc.message}", exc.hint) from None
    return parsed


def load_recipe(path: str | Path) -> list[tuple[str, Any]]:
    """Read and validate a YAML recipe file."""
    from pt2trt.user_yaml import load_user_yaml

    p = existing_file(path, "recipe file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise Pt2trtError(f"recipe {p} is not UTF-8 text", "Save it as a UTF-8 YAML file") from exc
    return parse_recipe(load_user_yaml(text, f"recipe {p}"), str(p))
