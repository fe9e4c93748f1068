"""Which checkpoints the explorer runs for a visitor: the ones its operator lists, and, only if
the operator allows it, Hub ids the visitor types; never a typed local path.

A visitor sees and picks the operator's checkpoints by name (a folder's own name, a Hub id as
it is), so the server's paths never reach the page. A typed string is only ever a Hub id: the
server's disk is not consulted for it, so no answer tells whether some path exists there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from iarc_hf.hub.safe_loading import CheckpointError, CheckpointSource, SizeLimits, hub_source
from iarc_hf.hub.safe_loading import source_for as operator_source

MAX_CHECKPOINTS = 4  # per request: each one is a model run and a figure
EXPLORER_LIMITS = SizeLimits()
# Absolute, home-relative, ./ or ../, Windows-style: refused before any Hub id check.
_PATH_LIKE = re.compile(r"^\s*(/|~|\.|[A-Za-z]:)|\\|\.\.")


def looks_like_path(text: str) -> bool:
    return bool(_PATH_LIKE.search(text))


def shown(text: str, width: int = 80) -> str:
    """A visitor's string as messages quote it: stripped, at most `width` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True)
class ServedCheckpoints:
    """The operator's checkpoints by display name, and whether visitors may type Hub ids."""

    listed: dict[str, str] = field(default_factory=dict)  # name -> the operator's folder / id
    allow_hub_ids: bool = False

    @classmethod
    def from_operator(cls, model_ids=(), allow_hub_ids: bool = False) -> ServedCheckpoints:
        """ValueError (naming it) for an entry that is neither a folder nor a Hub id, or two
        entries with one display name."""
        listed = {}
        for model_id in model_ids:
            source = operator_source(model_id)
            if source.name in listed:
                raise ValueError(
                    f"--model {model_id!r}: another checkpoint is also named {source.name!r}"
                )
            listed[source.name] = model_id
        return cls(listed, allow_hub_ids)

    @property
    def names(self) -> list[str]:
        return list(self.listed)

    def source(self, chosen: str) -> CheckpointSource:
        """Where `chosen` (a listed name, or a typed Hub id) loads from; CheckpointError if it
        is not served."""
        chosen = str(chosen).strip()
        if chosen in self.listed:
            return operator_source(self.listed[chosen])
        if not self.allow_hub_ids:
            offered = ", ".join(self.names) or "none"
            raise CheckpointError(
                shown(chosen), f"not a checkpoint this explorer serves (it serves: {offered})"
            )
        reason = "typed checkpoints must be Hub ids (user/name); local paths are not served"
        if looks_like_path(chosen):
            raise CheckpointError(shown(chosen), reason)
        # Hub files of a typed id go to a temp folder removed once it is loaded
        return hub_source(chosen, scratch=True, reason=reason)
