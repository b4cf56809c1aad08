"""A document answer cut off at the token limit is no answer, not a crash: through OpenAI's
real client (which raises on a JSON reply it cannot finish) against the scripted server."""

from agents.rag.agent import RagAgent
from evals.doc_chunks import read_documents
from retrieval.embeddings import Embedder
from retrieval.faiss_store import FaissStore
from retrieval.index import DocumentIndex
from services.identity import Caller
from services.llm.scripted_server import Reply
from tests.integration.providers.helpers import embedded_chat


async def test_a_cut_off_answer_is_declined(settings, server):
    embedder = Embedder()
    index = DocumentIndex(FaissStore(embedder.dimension), embedder)
    for doc in read_documents():
        index.replace_document(doc.document_id, list(doc.chunks), doc_type=doc.doc_type)
    server.play(
        Reply('{"answerable": true, "citations": [1], "quote": "Int', finish_reason="length")
    )
    agent = RagAgent(embedded_chat(settings, server), index)
    outcome = await agent.answer(
        "How much does an international wire withdrawal cost?", Caller(user_id=42)
    )
    assert outcome.declined and outcome.reason == "model_declined"
    assert len(server.recorded("openai")) == 1
