"""mem0 on a ``HybridMemClient`` of a live ``hybridmem serve``, in a process of its
own (tests/integrations/test_mem0_over_http.py).

``python -m tests.integrations.mem0_client_child URL API_KEY HISTORY COMMAND`` builds
mem0 on a client of URL as the README's recipe does, runs COMMAND and prints its
answer as one JSON line:

* ``{"add": [[text, user_id], ...]}``: the mem0 ids of the memories added;
* ``{"get": [mem0_id, ...]}``: each memory's text, or null;
* ``{"update": [mem0_id, text]}`` / ``{"delete": mem0_id}``: mem0's answer's message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hybridmem.client import HybridMemClient
from tests.integrations.mem0_child import mem0_on, run


def main() -> None:
    url, api_key, history, raw = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    command: dict[str, Any] = json.loads(raw)
    with HybridMemClient(url, api_key=api_key) as client:
        memory, _ = mem0_on(client, history)
        if "update" in command:
            mem0_id, text = command["update"]
            answer: Any = memory.update(mem0_id, text)["message"]
        elif "delete" in command:
            answer = memory.delete(command["delete"])["message"]
        else:
            answer = run(memory, command)
    print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
