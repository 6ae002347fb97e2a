"""The site index: written only when the cohort supports it, read back as a catalogue entry that is the model."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.indices.catalogue import MEASUREMENTS_BY_ID
from cbct_osteo.indices.definition_file import catalogue_with, load_index_file
from cbct_osteo.indices.scoring import score_case
from cbct_osteo.io.errors import LoadError
from cbct_osteo.measure.quantity import Measurement
from cbct_osteo.validate import run_validation
from cbct_osteo.validate.analysis import validate_cohort
from cbct_osteo.validate.data import read_cohort
from cbct_osteo.validate.site_index import SiteIndexRefused, write_site_index
from cbct_osteo.validate.synthetic import Relation, make_cohort, write_cohort_csvs

FEATURES = ["W", "BV_TV", "FD"]


def test_site_index_scores_exactly_the_fitted_model(cohort60, tmp_path):
    validation = validate_cohort(read_cohort(*cohort60), features=FEATURES, seed=0)
    path = write_site_index(validation, tmp_path / "SITE.toml")
    entry = load_index_file(path)
    assert entry.status == "site-derived" and entry.kind == "definition file"
    assert "Castro" not in entry.name and "Castro" not in entry.citations[0]
    assert entry.provenance["n"] == 60 and entry.provenance["auc"] == pytest.approx(
        validation.document["model"]["cv_auc"]
    )
    assert entry.cutoff.direction == "above" and entry.cutoff.value == round(
        validation.document["model"]["youden_cutoff_logit"], 3
    )
    # score one synthetic case through the program's own scoring: the mean of both sides = the model's log-odds
    sides = make_cohort(1, seed=99).measurements[0]
    measured = {
        s: {k: Measurement(k, v, MEASUREMENTS_BY_ID[k].unit, "synthetic") for k, v in values.items()}
        for s, values in sides.items()
    }
    result = score_case(measured, entries=catalogue_with((entry,)))
    means = np.array([[(sides["left"][f] + sides["right"][f]) / 2 for f in FEATURES]])
    assert result.mean["SITE"].value == pytest.approx(validation.model.pipeline.decision_function(means)[0], abs=1e-9)
    document = result.mean["SITE"].to_json()
    assert document["status"] == "site-derived" and document["provenance"]["n"] == 60
    assert document["name"] == entry.name
    assert "mean_SITE" in result.csv_row() and "left_SITE" in result.csv_row()


def test_small_cohort_warns_and_refuses_the_site_index_unless_forced(tmp_path):
    results, reference = write_cohort_csvs(tmp_path, make_cohort(40, Relation(t_mean=-0.8), seed=6))
    with pytest.raises(SiteIndexRefused, match="use --force"):
        run_validation(results, reference, tmp_path / "V.pdf", write_index=tmp_path / "SITE.toml")
    assert not (tmp_path / "SITE.toml").exists() and not (tmp_path / "V.pdf").exists()
    outputs = run_validation(results, reference, tmp_path / "V.pdf", write_index=tmp_path / "SITE.toml", force=True)
    assert 2 <= outputs.document["positives"] < 10
    assert any("too wide to choose a cutoff" in w for w in outputs.warnings)
    entry = load_index_file(outputs.site_index)
    assert entry.provenance["warnings"] and "too wide" in entry.provenance["warnings"][0]


def test_site_index_refuses_features_the_scan_cannot_give(cohort60, tmp_path):
    validation = validate_cohort(read_cohort(*cohort60), features=["W", "age"], seed=0)
    with pytest.raises(SiteIndexRefused, match="computable from the scan alone"):
        write_site_index(validation, tmp_path / "SITE.toml", force=True)


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda t: t.replace('status = "site-derived"', 'status = "guessed"'), "status 'guessed'"),
        (lambda t: t.replace("\nW = ", "\nWIDTH = "), "unknown measurement ids ['WIDTH']"),
        (lambda t: t.replace('id = "SITE"', 'id = "CTMI"'), "already a built-in index"),
        (lambda t: t.replace('direction = "above"', 'direction = "sideways"'), "direction 'below' or 'above'"),
        (lambda t: t.replace("[derivation]", "[derivation_gone]"), "needs its [derivation]"),
        (lambda t: t.replace("form = ", "form == "), "not a valid TOML"),
    ],
)
def test_broken_definition_files_are_refused_naming_the_file(validated60, tmp_path, edit, words):
    path = tmp_path / "SITE.toml"
    path.write_text(edit(validated60[0].site_index.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        load_index_file(path)
    assert str(path) in str(caught.value) and words in str(caught.value)


def test_a_site_index_is_validated_on_a_new_cohort_with_validate_index(validated60, tmp_path):
    """External validation: batch --index puts the site index's columns in RESULTS.csv; validate --index tests them."""
    import tomllib
    from sklearn.metrics import roc_auc_score

    site_path = validated60[0].site_index
    entry = load_index_file(site_path)
    new = make_cohort(80, Relation(), seed=123)
    results, reference = write_cohort_csvs(tmp_path, new, entries=catalogue_with((entry,)))
    outputs = run_validation(results, reference, tmp_path / "V.pdf", features=["W"], index_files=(str(site_path),))
    site = outputs.document["indices"]["mean_SITE"]
    # the rule recomputed from the file by hand: the log-odds of both sides' mean measurements
    rule = tomllib.loads(site_path.read_text(encoding="utf-8"))["definition"]
    logit = [
        rule["intercept"] + sum(c * (m["left"][k] + m["right"][k]) / 2 for k, c in rule["coefficients"].items())
        for m in new.measurements
    ]
    assert site["auc"] == pytest.approx(roc_auc_score(np.round(new.t_score, 2) <= -2.5, logit), abs=1e-6)
    assert site["status"] == "site-derived" and site["at_published_cutoff"]["cutoff"] == entry.cutoff.value
    assert site["auc"] > 0.65


def test_a_castro_definition_file_replaces_the_bundled_one_for_the_run():
    """The same --index mechanism brings in the Castro rule once verified; here the bundled file itself."""
    from cbct_osteo.indices.castro import DEFAULT_PATH
    from cbct_osteo.indices.catalogue import all_entries

    entry = load_index_file(DEFAULT_PATH)
    assert entry.id == "CASTRO" and entry.status == "unverified" and entry.formula is None
    catalogue = catalogue_with((entry,))
    assert [e.id for e in catalogue] == [e.id for e in all_entries()]  # replaced in place, not added
