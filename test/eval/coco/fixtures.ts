import type { CocoAnnotation, CocoBox, CocoDetection, CocoInstances } from "../../../lib/data/coco";
import { createRng } from "../../../lib/util";

/**
 * Seeded ground truth + detections that reach COCOeval's corner cases: images without ground truth (some with
 * detections), a category without detections, a category without ground truth but with detections, detections of a
 * category the ground truth does not list, more than 100 detections on one image, crowd regions, areas in all three
 * ranges, `area` fields smaller than the box (mask areas), exact-copy boxes (IoU 1 ties) and tied scores.
 * Image ids are not contiguous and not sorted in file order.
 */
export function cocoEvalFixture(seed: number): { gt: CocoInstances; detections: CocoDetection[] } {
  const rng = createRng(seed);
  const categories = [
    { id: 1, name: "scratch" },
    { id: 3, name: "hole" },
    { id: 7, name: "crack" },
    { id: 8, name: "never_detected" },
    { id: 12, name: "no_ground_truth" },
  ];
  const gtCategories = [1, 3, 7, 8];
  const imageCount = 30 + rng.int(20);
  const images = rng
    .shuffle(Array.from({ length: imageCount }, (_, i) => 3 * i + 2 + rng.int(2)))
    .map((id) => ({ id, file_name: `img_${id}.png`, width: 320 + rng.int(400), height: 240 + rng.int(300) }));
  const annotations: CocoAnnotation[] = [];
  const detections: CocoDetection[] = [];
  const score = () => (rng.next() < 0.3 ? Math.round(rng.next() * 20) / 20 : rng.next());
  const randomBox = (w: number, h: number, crowd = false): CocoBox => {
    const side = crowd ? 120 + rng.next() * 150 : Math.exp(rng.uniform(Math.log(6), Math.log(260)));
    const bw = Math.min(w - 1, side * rng.uniform(0.5, 1.6));
    const bh = Math.min(h - 1, side * rng.uniform(0.5, 1.6));
    return [rng.uniform(0, w - bw), rng.uniform(0, h - bh), bw, bh];
  };
  const jitter = (box: CocoBox, amount: number): CocoBox => {
    const [x, y, w, h] = box;
    const nw = Math.max(1, w * (1 + amount * rng.normal()));
    const nh = Math.max(1, h * (1 + amount * rng.normal()));
    return [x + amount * w * rng.normal(), y + amount * h * rng.normal(), nw, nh];
  };
  let annId = 1;
  images.forEach((image, index) => {
    const withoutGt = rng.next() < 0.2;
    const count = withoutGt ? 0 : 1 + rng.int(8);
    for (let i = 0; i < count; i++) {
      const crowd = rng.next() < 0.08;
      const bbox = randomBox(image.width, image.height, crowd);
      const boxArea = bbox[2] * bbox[3];
      const area = rng.next() < 0.5 ? boxArea : boxArea * rng.uniform(0.4, 1);
      const category_id = gtCategories[rng.int(gtCategories.length)];
      annotations.push({ id: annId++, image_id: image.id, category_id, bbox, area, iscrowd: crowd ? 1 : 0 });
      if (category_id === 8) continue; // a category with ground truth and no detections
      const roll = rng.next();
      if (roll < 0.1) detections.push({ image_id: image.id, category_id, bbox: [...bbox], score: score() });
      else if (roll < 0.85) detections.push({ image_id: image.id, category_id, bbox: jitter(bbox, rng.uniform(0.02, 0.3)), score: score() });
      if (rng.next() < 0.2) detections.push({ image_id: image.id, category_id, bbox: jitter(bbox, 0.1), score: score() }); // duplicate
      if (rng.next() < 0.1) detections.push({ image_id: image.id, category_id: [1, 3, 7][rng.int(3)], bbox: jitter(bbox, 0.05), score: score() });
      if (crowd) for (let j = 0; j < 3; j++) detections.push({ image_id: image.id, category_id, bbox: randomBox(image.width, image.height), score: score() });
    }
    const falsePositives = index === 0 ? 140 : rng.int(withoutGt ? 5 : 3);
    for (let i = 0; i < falsePositives; i++) {
      const category_id = rng.next() < 0.05 ? 99 : [1, 3, 7, 12][rng.int(4)];
      detections.push({ image_id: image.id, category_id, bbox: randomBox(image.width, image.height), score: score() });
    }
  });
  // The >100-detection image also gets real hits, so the maxDets cut changes its matches.
  const crowded = images[0];
  for (let i = 0; i < 6; i++) {
    const bbox = randomBox(crowded.width, crowded.height);
    annotations.push({ id: annId++, image_id: crowded.id, category_id: 1, bbox, area: bbox[2] * bbox[3], iscrowd: 0 });
    for (let j = 0; j < 20; j++) detections.push({ image_id: crowded.id, category_id: 1, bbox: jitter(bbox, 0.08), score: score() });
  }
  return { gt: { images, annotations, categories }, detections: rng.shuffle(detections) };
}
