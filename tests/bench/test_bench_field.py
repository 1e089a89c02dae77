"""The field test's own logic, and two of its real checks on small folders (hashing embedder, real processes)."""

from __future__ import annotations

import bench.field as field
from bench.field import Check, Run


def test_a_failed_check_makes_the_field_test_fail(monkeypatch, capsys):
    monkeypatch.setattr(field, "run_checks", lambda work, quick: [Check("a", True, "1/1"), Check("b", False, "0/1")])
    assert field.main(["--quick"]) == 1
    out = capsys.readouterr().out
    assert "| a | PASS | 1/1 |" in out and "| b | **FAIL** | 0/1 |" in out and "1/2 checks passed" in out
    monkeypatch.setattr(field, "run_checks", lambda work, quick: [Check("a", True, "x | y")])
    assert field.main([]) == 0
    assert "| a | PASS | x / y |" in capsys.readouterr().out  # a figure cannot break the table


def test_a_user_mistake_must_be_one_line_and_exit_2():
    assert field._one_clean_line(Run(2, "", "rag: error: corpus folder not found: x\n", 0.1))
    assert not field._one_clean_line(Run(1, "", "rag: error: x\n", 0.1))
    assert not field._one_clean_line(Run(2, "", "rag: error: x\nterminate called without an active exception\n", 0.1))
    assert not field._one_clean_line(Run(2, "", "Traceback (most recent call last):\n  ...\n", 0.1))


def test_files_as_they_come_are_all_indexed(tmp_path):
    (tmp_path / "para").mkdir()
    (tmp_path / "names").mkdir()
    for check in (field.check_one_paragraph(tmp_path / "para", 20), field.check_odd_names(tmp_path / "names")):
        assert check.passed, check.figures
    assert "0 silently lost" in check.figures
