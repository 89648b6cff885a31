import { imagePath, loadPoiDataset, splitPoiRecords } from "../../lib/poi";

/** The notebooks' training photos (split seed 42, the 1133 rows notebooks 04 and 06 augment), in split order. */
export function trainingPhotos(): string[] {
  const dataset = loadPoiDataset();
  return splitPoiRecords(dataset.records, { seed: 42 }).train.map((record) => imagePath(dataset.dataDir, record));
}

/** The preset the new-preset benchmark embeds: the example, preset A1 with its rotation changed to 20°. */
export const NEW_PRESET_SPECS = [
  { op: "hflip" as const, p: 0.5 },
  { op: "rotate" as const, degrees: 20, fill: "reflect" as const },
];
