"""Hostile checkpoints for the loading tests: folders whose code writes a marker file when
imported, and a stand-in Hub that serves a folder's files and records what was asked of it."""

import json
import shutil
from pathlib import Path

from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

# What `trust_remote_code=True` would import from such a folder: it writes the marker.
MARKER_CODE = "from pathlib import Path\n\nPath({marker!r}).write_text('remote code ran')\n"


def trap_folder(good: Path, out: Path, marker: Path, model_type: str = "iarc") -> Path:
    """A copy of the checkpoint `good` whose config.json says `model_type` and maps the Auto
    classes to `modeling_evil.py`; that file, and the shipped model files, write `marker`."""
    shutil.copytree(good, out, ignore=shutil.ignore_patterns("checkpoint-*"))
    config = json.loads((out / "config.json").read_text())
    config["model_type"] = model_type
    config["auto_map"] = {
        "AutoConfig": "modeling_evil.EvilConfig",
        "AutoModel": "modeling_evil.EvilModel",
    }
    (out / "config.json").write_text(json.dumps(config))
    code = MARKER_CODE.format(marker=str(marker))
    for name in ("modeling_evil.py", "modeling_iarc.py", "configuration_iarc.py"):
        (out / name).write_text(code)
    return out


def run_trap_code(folder: Path) -> None:
    """Import the folder's modeling_evil.py as remote code would (shows the trap is real)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("modeling_evil", folder / "modeling_evil.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


class FakeHub:
    """`hf_hub_download` for repos made of local folders: records every (repo, file) asked
    for; an unknown repo or file is a cache miss, as offline."""

    def __init__(self, cache: Path, repos: dict[str, Path]):
        self.cache, self.repos, self.calls = cache, repos, []

    def download(self, repo_id, filename, *, local_dir=None, **_):
        self.calls.append((repo_id, filename))
        if repo_id not in self.repos:
            raise LocalEntryNotFoundError(f"{repo_id} is not cached")
        source = self.repos[repo_id] / filename
        if not source.is_file():
            raise EntryNotFoundError(f"{filename} not in {repo_id}")
        target = Path(local_dir or self.cache / repo_id.replace("/", "--")) / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return str(target)

    def files(self) -> list[str]:
        return [filename for _, filename in self.calls]


def with_config(good: Path, out: Path, **changes) -> Path:
    """A copy of `good` with config.json fields changed."""
    shutil.copytree(good, out, ignore=shutil.ignore_patterns("checkpoint-*"))
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, **changes}))
    return out
