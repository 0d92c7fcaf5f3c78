"""Locating and loading local HanLP models without ever touching the network.

`hanlp.load` on a model that is not on disk spends about 25 s retrying a download, so
presence is checked first and a missing model is a clear ModelNotFoundError.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from kgrag.core.errors import ModelNotFoundError

_LOAD_LOCK = threading.Lock()


def hanlp_home() -> Path:
    return Path(os.environ.get("HANLP_HOME") or Path.home() / ".hanlp").expanduser()


def find_hanlp_model(spec: str) -> Path | None:
    """The local folder for `spec`: a folder path; a folder under HANLP_HOME; or a HanLP
    pretrained identifier (name such as "MSRA_NER_ELECTRA_SMALL_ZH" or its URL) that was
    downloaded to HANLP_HOME earlier. None when nothing is on disk."""
    direct = Path(spec).expanduser()
    if direct.is_dir():
        return direct
    home = hanlp_home()
    if not Path(spec).is_absolute() and (home / spec).is_dir():
        return home / spec
    url = _pretrained_url(spec)
    if url is None:
        return None
    from hanlp.utils.io_util import path_from_url, split_if_compressed
    from hanlp_common.constant import HANLP_URL

    local, _ = split_if_compressed(path_from_url(url.split("#")[0], str(home), HANLP_URL, True))
    return Path(local) if Path(local).is_dir() else None


def _pretrained_url(spec: str) -> str | None:
    if spec.startswith(("http://", "https://")):
        return spec
    if not spec.isidentifier():
        return None
    import hanlp.pretrained

    url = hanlp.pretrained.ALL.get(spec)
    return url if isinstance(url, str) else None


@lru_cache(maxsize=8)
def load_hanlp(spec: str) -> tuple[Any, Path]:
    """(component, folder) for a local HanLP model, loaded once per process on the CPU."""
    folder = find_hanlp_model(spec)
    if folder is None:
        raise ModelNotFoundError(
            f"HanLP model {spec!r} not found locally (looked for a folder and under "
            f"HANLP_HOME={hanlp_home()}); HanLP models are not downloaded at run time: "
            f"train one with `kgrag train-ner` or copy a model folder there"
        )
    import hanlp

    with _LOAD_LOCK:
        return hanlp.load(str(folder), devices=[], verbose=False), folder
