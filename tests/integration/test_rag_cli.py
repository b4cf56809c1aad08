"""`trading-assist eval rag`, `eval convert-tatqa` and `bench retrieval` as a person runs them:
a real process, JSON out."""

import json
import os
import subprocess
import sys
from pathlib import Path

from evals.convert_tatqa import DEV_FILE, TATQA

BIN = Path(sys.executable).parent / "trading-assist"
ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], var_dir: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "VAR_DIR": str(var_dir), "RAGAS_DO_NOT_TRACK": "true"}
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
        cwd=ROOT,
    )


def test_eval_rag_reports_retrieval_metrics_without_a_model(tmp_path):
    golden = tmp_path / "golden.jsonl"
    lines = (ROOT / "evals/golden/demo_docs.jsonl").read_text().splitlines()
    picked = [line for line in lines if json.loads(line)["id"].startswith(("fee-", "aml-", "off-"))]
    golden.write_text("\n".join(picked) + "\n")
    out = tmp_path / "report.json"
    result = _run(
        ["eval", "rag", "--golden", str(golden), "--no-answers", "--k", "3", "--out", str(out)],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    summary = report["summary"]
    assert summary["k"] == 3 and summary["answerable"] == 26 and summary["must_decline"] == 8
    assert summary["hit_rate"] >= 0.9 and summary["mrr"] >= 0.8
    assert summary["leaks"] == 0 and summary["context_recall"] >= 0.9
    assert summary["gated_must_decline"] == 1.0 and summary["answered"] is None
    assert report["chunks"] == 36 and report["store"] == "faiss-flat"
    assert "hit rate@3" in result.stdout
    assert (tmp_path / "index" / "embeddings.sqlite").exists()  # the shared vector cache


def test_convert_tatqa_writes_documents_and_questions_under_the_chosen_folder(tmp_path):
    out = tmp_path / "tatqa"
    result = _run(["eval", "convert-tatqa", "--out-dir", str(out), "--limit", "3"], tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["documents"] == 3 and report["questions"] > 3
    assert len(list((out / "docs").glob("tatqa-*.md"))) == 3
    assert (TATQA / DEV_FILE).exists()  # read in place, not copied
    assert not list(ROOT.glob("**/tatqa_dataset_dev.json"))


def test_bench_retrieval_prints_a_json_report(tmp_path):
    result = _run(
        [
            "bench",
            "retrieval",
            "--sizes",
            "2000",
            "--queries",
            "20",
            "--embed-texts",
            "16",
            "--rounds",
            "1",
            "--paragraphs",
            "60",
            "--json",
        ],
        tmp_path,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: a target missed on a busy machine
    report = json.loads(result.stdout)
    flat, hnsw = report["queries"]  # the largest size is timed again in HNSW
    assert flat["size"] == 2000 and flat["store"] == "faiss-flat" and flat["queries"] == 20
    assert hnsw["size"] == 2000 and hnsw["store"] == "faiss-hnsw"
    # timings are the benchmark's to report, not this test's to judge (a busy machine moves
    # them): only that both were taken
    assert flat["embed_p50_ms"] > 0 and flat["p50_ms"] > 0
    assert report["embedding"]["ratio"] > 0 and report["hnsw"]["recall_at_10"] > 0.8
    assert any("perturbed real embeddings" in note for note in report["notes"])
    ingestion = {timing["format"]: timing for timing in report["ingestion"]}
    assert ingestion.keys() == {"pdf", "docx"}
    assert all(
        t["files"] == 5 and t["pages"] >= 5 and t["pages_per_s"] > 0 for t in ingestion.values()
    )
