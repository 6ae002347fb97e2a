"""cbct-osteo validate RESULTS.csv --reference REFERENCE.csv -o VALIDATION.pdf [--json OUT.json]
    [--target osteoporosis|low-bmd] [--write-index SITE.toml]

Research mode: how well do the indices predict low bone density in YOUR cohort and scanner?
RESULTS.csv is ``cbct-osteo batch`` output; REFERENCE.csv has ``case_id,t_score`` and optionally
``bmd,site`` (femoral_neck, lumbar_spine, total_hip), ``age,sex``. Target: osteoporosis
(T <= -2.5, WHO) or ``--target low-bmd`` (T < -1). Cases missing from either file, failed batch
rows and measurements not of "ok" quality are left out and counted. Per index (both sides'
mean and each side): ROC, AUC with a stratified bootstrap 95 % CI, sensitivity, specificity,
PPV and NPV at the published cutoff (Wilson intervals), the Youden cutoff with its interval,
Pearson and Spearman correlation with the T-score. A combined logistic model is judged by
repeated cross-validation (out-of-fold AUC, never the training AUC), calibration and
coefficient intervals. Writes the PDF, PNG figures beside it and ``--json``. ``--write-index``
saves the model as a site-derived index for ``measure/report/batch --index``; with fewer than
10 cases in either class it is refused unless ``--force``. ``--index SITE.toml`` tests an
earlier site index on this cohort (external validation). See docs/validation.md.
"""

from __future__ import annotations

import argparse
import sys
import time

from cbct_osteo.commands.case_options import add_index_option


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", metavar="RESULTS.csv", help="results CSV written by 'cbct-osteo batch'")
    parser.add_argument(
        "--reference", required=True, metavar="REFERENCE.csv", help="DXA reference: case_id,t_score[,bmd,site,age,sex]"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="VALIDATION.pdf", help="validation report PDF to write"
    )
    parser.add_argument("--json", metavar="OUT.json", help="also write every number as JSON")
    parser.add_argument(
        "--target",
        choices=("osteoporosis", "low-bmd"),
        default="osteoporosis",
        help="osteoporosis: T <= -2.5 (WHO, default); low-bmd: T < -1",
    )
    parser.add_argument(
        "--features",
        nargs="+",
        metavar="FEATURE",
        help="model features: measurement ids (mean of both sides, e.g. W BV_TV), results columns "
        "(e.g. left_W) or age (default: W TRAB_MEAN TRAB_SD BV_TV FD, plus age if given and "
        "no --write-index)",
    )
    parser.add_argument(
        "--write-index", metavar="SITE.toml", help="save the fitted model and its cutoff as a site index"
    )
    parser.add_argument("--index-id", default="SITE", metavar="ID", help="id of the site index (default SITE)")
    parser.add_argument(
        "--index-name", metavar="NAME", help="display name of the site index (default 'Site index (DATE)')"
    )
    parser.add_argument(
        "--force", action="store_true", help="write the site index even with fewer than 10 cases in a class"
    )
    add_index_option(
        parser, "also test this index definition file's columns (e.g. an earlier site index on a new cohort)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="seed of the bootstrap and cross-validation (default 0)"
    )


def run(args: argparse.Namespace) -> int:
    from cbct_osteo.validate import run_validation

    start = time.perf_counter()
    outputs = run_validation(
        args.results,
        args.reference,
        args.output,
        json_path=args.json,
        target=args.target,
        features=args.features,
        seed=args.seed,
        write_index=args.write_index,
        force=args.force,
        index_id=args.index_id,
        index_name=args.index_name,
        index_files=tuple(args.index),
    )
    document = outputs.document
    for text in outputs.warnings:
        print(f"cbct-osteo validate: warning: {text}", file=sys.stderr)
    best = max(
        ((k, v) for k, v in document["indices"].items() if v.get("auc") is not None),
        key=lambda item: item[1]["auc"],
        default=None,
    )
    print(
        f"{document['n']} cases, {document['positives']} positive ({document['target_definition']}); "
        f"left out: {sum(document['excluded'].values())}"
    )
    if best:
        print(
            f"highest AUC: {best[0]} {best[1]['auc']:.2f} [{best[1]['auc_ci95'][0]:.2f}, {best[1]['auc_ci95'][1]:.2f}]"
        )
    model = document["model"]
    if model.get("cv_auc") is not None:
        ci = model["cv_auc_ci95"]
        print(
            f"combined model ({', '.join(model['features'])}): "
            f"cross-validated AUC {model['cv_auc']:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"
        )
    print(f"report written to {outputs.pdf} (figures: {', '.join(p.name for p in outputs.figures.values())})")
    if outputs.json:
        print(f"JSON written to {outputs.json}")
    if outputs.site_index:
        print(f"site index written to {outputs.site_index}")
    print(f"done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0
