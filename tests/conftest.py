"""Test-wide settings: nothing touches the network or the user's caches."""

import os
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="iarc-test-datasets-"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
