"""Test-wide settings: nothing touches the network or the user's caches."""

import os
import tempfile

import pytest
import torch

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="iarc-test-datasets-"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def keep_torch_threads():
    """Sweeps, speedruns and training call torch.set_num_threads; give the next test torch's count back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def hub_calls(monkeypatch):
    """Record `create_repo` / `upload_folder` instead of calling the Hub (with a fake token);
    create_repo returns the repo's URL as the Hub would."""
    calls = []

    def create_repo(self, repo_id, **kw):
        calls.append(("create_repo", repo_id, kw))
        space = "spaces/" if kw.get("repo_type") == "space" else ""
        return f"https://huggingface.co/{space}{repo_id}"

    monkeypatch.setattr("huggingface_hub.get_token", lambda: "hf_fake")
    monkeypatch.setattr("huggingface_hub.HfApi.create_repo", create_repo)
    monkeypatch.setattr("huggingface_hub.HfApi.upload_folder", lambda self, **kw: calls.append(("upload_folder", kw)))  # fmt: skip
    return calls
