"""A built wheel is a complete install: trained from outside the checkout, it writes its card.

The wheel is built offline from a copy of the source tree, installed into a fresh venv that
sees the main venv's dependencies but not its editable `iarc_hf`, and `scripts/train.py`
(copied out of the checkout) trains a tiny model there to the end.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("data", "eval", "training", "experiments", "hub", "viz", "benchmarks")
pytestmark = pytest.mark.integration


def run(*command, cwd=None, env=None) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(tmp_path) -> Path:
    """The wheel of a copy of the sources (the build writes build/ beside the sources)."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "src", source / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    pip = (sys.executable, "-m", "pip")
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", wheels, ".",
        cwd=source)  # fmt: skip
    (wheel,) = wheels.glob("iarc_hf-*.whl")
    return wheel


def install_in_fresh_venv(wheel: Path, tmp_path) -> Path:
    """A venv with the wheel installed; the main venv's site-packages is on its path (for
    torch, transformers, ...) as a plain directory, so its editable-install .pth is not run."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    (site / "main_venv_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
        "-q", wheel)  # fmt: skip
    return python


def test_wheel_install_trains_and_writes_the_model_card(tmp_path):
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"iarc_hf/{sub}/__init__.py" for sub in SUBPACKAGES} <= names
    assert {f"iarc_hf/hub/templates/{card}_card.md" for card in ("model", "dataset")} <= names
    python = install_in_fresh_venv(wheel, tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy2(REPO / "scripts" / "train.py", work / "train.py")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")

    where = run(python, "-c", "import iarc_hf; print(iarc_hf.__file__)", cwd=work, env=env)
    assert Path(where.strip()).is_relative_to(tmp_path / "venv"), where  # the wheel, not src/

    run(python, "train.py", "--output_dir", "run", "--preset", "transformer-dpa",
        "--num_hidden_layers", "1", "--max_steps", "3", "--per_device_train_batch_size", "8",
        "--eval_steps", "3", "--eval_size", "20", "--test_size", "40", "--logging_steps", "1",
        cwd=work, env=env)  # fmt: skip
    card = (work / "run" / "README.md").read_text()
    assert "transformer-dpa on IARC" in card
    assert (work / "run" / "all_results.json").is_file()
