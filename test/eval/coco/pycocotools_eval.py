"""Run pycocotools' COCOeval (bbox) on a ground-truth and a detections file; print one JSON object on stdout.

Used by the equality tests (cocoeval.test.ts) with the pycocotools they built in a temporary folder on PYTHONPATH.
"""
import contextlib
import json
import sys

import types

import numpy as np

# pycocotools.coco imports matplotlib for showAnns() only; evaluation never draws, so a stand-in keeps the reference
# build free of a plotting stack where matplotlib is not installed.
try:
    import matplotlib  # noqa: F401
except ImportError:
    for name, attrs in {"matplotlib": [], "matplotlib.pyplot": [], "matplotlib.collections": ["PatchCollection"], "matplotlib.patches": ["Polygon"]}.items():
        module = types.ModuleType(name)
        for attr in attrs:
            setattr(module, attr, object)
        sys.modules[name] = module

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

gt_file, dt_file = sys.argv[1], sys.argv[2]
with contextlib.redirect_stdout(sys.stderr):
    gt = COCO(gt_file)
    dt = gt.loadRes(dt_file)
    ev = COCOeval(gt, dt, "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()

p = ev.params
precision = ev.eval["precision"]
per_class = {}
for k, cat_id in enumerate(p.catIds):
    name = gt.cats[cat_id]["name"]
    s = precision[:, :, k, 0, -1]
    s50 = precision[0, :, k, 0, -1]
    per_class[name] = {
        "ap": float(np.mean(s[s > -1])) if (s > -1).any() else -1.0,
        "ap50": float(np.mean(s50[s50 > -1])) if (s50 > -1).any() else -1.0,
    }
print(json.dumps({
    "stats": [float(v) for v in ev.stats],
    "per_class": per_class,
    "iouThrs": [float(v) for v in p.iouThrs],
    "recThrs": [float(v) for v in p.recThrs],
    "precision": [float(v) for v in precision.ravel(order="C")],
    "recall": [float(v) for v in ev.eval["recall"].ravel(order="C")],
    "scores": [float(v) for v in ev.eval["scores"].ravel(order="C")],
}))
