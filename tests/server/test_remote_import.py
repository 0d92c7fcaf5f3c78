"""The CLI answers through a running server in well under a second only if the remote
client leaves the indexing and retrieval stacks unimported."""

from __future__ import annotations

import subprocess
import sys


def test_the_remote_client_imports_no_indexing_or_numeric_stack():
    code = (
        "import sys, kgrag.server.remote;"
        "heavy = {'scipy', 'torch', 'qdrant_client', 'falkordb', 'llama_cpp',"
        " 'kgrag.indexing.indexer', 'kgrag.retrievers.pipeline', 'kgrag.kg.sampling'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
