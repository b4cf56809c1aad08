"""`python -m tests.integration.serve_scripted PORT [--ui] [--sql-script FILE]`: the API (with
--ui, also the Chainlit UI at /chat, as `trading-assist run` serves it) on 127.0.0.1:PORT with a
scripted model, configured from the environment; for tests that need real server processes.
With --sql-script (JSON: question -> SQL) the model writes that SQL for those questions and
answers with the rows it is shown; otherwise it says "scripted" to everything. With
--documents the server has the real embedder and document index, as `trading-assist run` has,
and the model answers a document question from the first passage it is shown."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import uvicorn

from api.main import create_app
from graphs.assistant import Assistant
from services.llm.scripted import ScriptedChatModel, replies
from services.settings import load_settings


def _sql_script(path: Path):
    script: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))

    def respond(messages, kwargs) -> str:  # noqa: ANN001 - the scripted model's responder
        asked = [str(m.content) for m in messages if m.type == "human"][-1]
        if "response_format" in kwargs:
            return json.dumps({"sql": script[asked.split("Question: ", 1)[-1]]})
        rows = re.search(r"Result rows: (.*)", asked)
        return f"Here is what I found: {rows.group(1)}" if rows else "scripted"

    return respond


def _from_first_passage(messages, kwargs) -> str:  # noqa: ANN001 - the scripted model's responder
    """A document answer citing passage [1]; "scripted" to everything else."""
    schema = (kwargs.get("response_format") or {}).get("json_schema", {}).get("name")
    if schema != "rag_answer":
        return "scripted"
    return json.dumps({"answerable": True, "citations": [1], "answer": "As the notice says [1]."})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--ui", action="store_true")
    parser.add_argument("--sql-script", type=Path)
    parser.add_argument("--documents", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    if args.documents:
        from retrieval.embeddings import Embedder
        from retrieval.factory import open_document_index

        embedder = Embedder()
        assistant = Assistant(
            settings,
            ScriptedChatModel(responder=_from_first_passage),
            embedder=embedder,
            index=open_document_index(settings, embedder),
        )
    else:
        responder = _sql_script(args.sql_script) if args.sql_script else replies("scripted")
        assistant = Assistant(settings, ScriptedChatModel(responder=responder))
    if args.ui:
        from cli.server import build_server_app

        app = build_server_app(assistant)
    else:
        app = create_app(assistant)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
