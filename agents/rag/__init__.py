"""The document (RAG) agent: a question answered from the firm's documents with the passages
it cites, checked against them, or declined."""
