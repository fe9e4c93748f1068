"""A damaged checkpoint is named, with the fix, before anything is resumed from it."""

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import train as train_script  # noqa: E402

from iarc_hf.training.checkpoint_checks import safetensors_problem  # noqa: E402
from iarc_hf.training.checkpoints import (  # noqa: E402
    BrokenCheckpoint,
    resolve_resume,
    verify_checkpoint,
)
from iarc_hf.training.loop import train  # noqa: E402

RUN = [
    "--preset", "transformer-dpa", "--num_hidden_layers", "1", "--dropout", "0.1",
    "--per_device_train_batch_size", "16", "--eval_size", "20", "--test_size", "20",
    "--logging_steps", "2", "--eval_steps", "2", "--max_steps", "8", "--save_steps", "2",
    "--optimizer", "adamw", "--learning_rate", "3e-3",
]  # fmt: skip


def args(out, *extra) -> list[str]:
    return ["--output_dir", str(out), *RUN, *extra]


@pytest.fixture(scope="module")
def stopped(tmp_path_factory) -> Path:
    """A run stopped after step 4: checkpoint-2 and checkpoint-4 (two are kept)."""
    out = tmp_path_factory.mktemp("stopped") / "run"
    train(*train_script.parse(args(out)), command="test", stop_after=4, show_progress=False)
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    return out


@pytest.fixture
def run_dir(stopped, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(stopped, copy)
    return copy


def cut_short(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))


def forget_world_size_and_rng(folder: Path) -> None:
    """A checkpoint saved before world_size was recorded, its RNG file gone."""
    state = json.loads((folder / "trainer_state.json").read_text())
    del state["world_size"]
    (folder / "trainer_state.json").write_text(json.dumps(state))
    (folder / "random_states_0.pkl").unlink()


DAMAGES = {
    "model cut short": (lambda f: cut_short(f / "model.safetensors"), "model.safetensors is cut short"),
    "optimizer cut short": (lambda f: cut_short(f / "optimizer.bin"), "optimizer.bin is cut short"),
    "scheduler cut short": (lambda f: cut_short(f / "scheduler.bin"), "scheduler.bin is cut short"),
    "rng cut short": (lambda f: cut_short(f / "random_states_0.pkl"), "random_states_0.pkl is cut short"),
    "optimizer flipped": (lambda f: flip_a_byte(f / "optimizer.bin"), "optimizer.bin is corrupt"),
    "optimizer missing": (lambda f: (f / "optimizer.bin").unlink(), "optimizer.bin is missing"),
    "rng missing": (lambda f: (f / "random_states_0.pkl").unlink(), "random_states_0.pkl is missing, so the continuation would not be bit-exact"),
    "old checkpoint, rng missing": (forget_world_size_and_rng, "random_states_0.pkl is missing"),
    "state cut short": (lambda f: cut_short(f / "trainer_state.json"), "trainer_state.json is cut short"),
}  # fmt: skip


def test_a_whole_checkpoint_verifies(stopped):
    state = verify_checkpoint(stopped / "checkpoint-4")
    assert state["step"] == 4 and state["world_size"] == 1
    assert resolve_resume("latest", stopped) == stopped / "checkpoint-4"


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_file_is_named_with_the_fix(run_dir, damage):
    spoil, problem = DAMAGES[damage]
    spoil(run_dir / "checkpoint-4")
    with pytest.raises(BrokenCheckpoint) as error:
        resolve_resume("latest", run_dir)
    message = str(error.value)
    assert message.startswith(f"checkpoint {run_dir / 'checkpoint-4'} cannot be resumed from: ")
    assert message.endswith("; delete that folder to resume from checkpoint-2 instead")
    assert problem in message and "\n" not in message
    verify_checkpoint(run_dir / "checkpoint-2")  # the earlier one is untouched


def test_the_only_checkpoint_damaged_says_start_afresh(run_dir):
    shutil.rmtree(run_dir / "checkpoint-2")
    cut_short(run_dir / "checkpoint-4" / "model.safetensors")
    with pytest.raises(BrokenCheckpoint, match="start the run afresh.*no earlier checkpoint"):
        resolve_resume("latest", run_dir)


def test_train_script_says_it_in_one_line(run_dir):
    cut_short(run_dir / "checkpoint-4" / "model.safetensors")
    with pytest.raises(SystemExit) as stop:
        train_script.main(args(run_dir, "--resume_from_checkpoint", "latest"))
    message = stop.value.code
    assert isinstance(message, str) and "\n" not in message
    assert message.startswith(f"error: checkpoint {run_dir / 'checkpoint-4'} cannot be resumed")
    assert "model.safetensors is cut short" in message and "delete that folder" in message


def test_deleting_the_damaged_folder_resumes_bit_exactly_from_the_one_before(run_dir, tmp_path):
    """The fix the message gives: the run continues from checkpoint-2 and ends where an
    uninterrupted run ends."""
    straight = tmp_path / "straight"
    train(*train_script.parse(args(straight)), command="test", show_progress=False)
    cut_short(run_dir / "checkpoint-4" / "optimizer.bin")
    shutil.rmtree(run_dir / "checkpoint-4")
    parsed = train_script.parse(args(run_dir, "--resume_from_checkpoint", "latest"))
    train(*parsed, command="test", show_progress=False)
    a, b = load_file(straight / "model.safetensors"), load_file(run_dir / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_safetensors_size_must_match_its_header(stopped, tmp_path):
    path = tmp_path / "model.safetensors"
    shutil.copy(stopped / "checkpoint-4" / "model.safetensors", path)
    assert safetensors_problem(path) is None
    with path.open("ab") as f:
        f.write(b"\0" * 8)
    assert "where its header says" in safetensors_problem(path)
    path.write_bytes(b"\x05\0")
    assert safetensors_problem(path) == "model.safetensors is cut short (2 bytes, no header)"
