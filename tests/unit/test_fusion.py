"""Reciprocal rank fusion, the BM25 terms, keyword ranking under a mask, and id selectors."""

import numpy as np
import pytest

from retrieval.bm25 import Bm25Index
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.terms import terms
from retrieval.vector_store import AllowedRows


def test_a_key_both_rankings_like_beats_a_key_one_ranking_puts_first():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "b", "d"]])
    assert {key for key, _ in fused[:2]} == {"b", "c"}
    scores = dict(fused)
    # b is 2nd in both lists; a is 1st in one list only
    assert scores["b"] > scores["a"]
    assert scores["c"] > scores["a"]
    assert scores["a"] > scores["d"]


def test_scores_follow_the_formula():
    fused = dict(reciprocal_rank_fusion([["x", "y"], ["y"]], k=60))
    assert fused["x"] == pytest.approx(1 / 61)
    assert fused["y"] == pytest.approx(1 / 62 + 1 / 61)


def test_weights_scale_each_ranking():
    fused = reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 3.0], k=0)
    assert fused == [("b", 3.0), ("a", 1.0)]


def test_a_key_repeated_in_one_ranking_counts_once_at_its_best_rank():
    fused = dict(reciprocal_rank_fusion([["a", "a", "b"]], k=0))
    assert fused == {"a": 1.0, "b": pytest.approx(1 / 3)}  # b keeps its position


def test_limit_and_empty_inputs():
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []
    assert len(reciprocal_rank_fusion([list("abcdef")], limit=3)) == 3


def test_ties_keep_first_seen_order():
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "a"]])
    assert [k for k, _ in fused] == ["a", "b"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], k=-1)
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0])


def test_terms_drop_stop_words_and_fold_plurals():
    assert terms("What are the fees for withdrawals?") == ["fee", "withdrawal"]
    assert terms("KYC policies") == ["kyc", "policy"]
    assert "$25.00" not in terms("costs $25.00") and "25.00" in terms("costs $25.00")


def test_bm25_ranks_only_allowed_positions():
    index = Bm25Index(
        [
            "International wire withdrawals cost $25.00 each.",
            "Internal: wire withdrawal escalation procedure for compliance staff.",
            "Crypto trades 24 hours a day.",
        ]
    )
    everything = [p for p, _ in index.top("wire withdrawal", 3)]
    assert set(everything) == {0, 1}
    masked = [p for p, _ in index.top("wire withdrawal", 3, np.array([True, False, True]))]
    assert masked == [0]
    assert index.top("zebra", 3) == []
    assert Bm25Index([]).top("wire", 3) == []


def test_allowed_rows_bitmap_matches_faiss_layout():
    allowed = AllowedRows([1, 8, 9, 8])
    assert allowed.ids.tolist() == [1, 8, 9]
    assert allowed.bitmap.tolist() == [0b00000010, 0b00000011]
    assert 8 in allowed and 2 not in allowed and 100 not in allowed
    assert len(AllowedRows([])) == 0
