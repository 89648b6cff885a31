import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import sharp from "sharp";
import { CSV_COLUMNS } from "../../lib/poi";

export const HEADER = CSV_COLUMNS.join(",");

/** A valid CSV line for a POI; `overrides` replaces raw field texts (already CSV-quoted where needed). */
export function csvLine(id: string, overrides: Partial<Record<(typeof CSV_COLUMNS)[number], string>> = {}): string {
  const fields: Record<string, string> = {
    id,
    name: `"Museo, ""Sala"" ${id}"`,
    shortDescription: `"Descripción con comas, acentos (á, ñ) y ""comillas""."`,
    categories: `"['Escultura', 'Pintura']"`,
    tier: "1",
    locationLon: "-3.70",
    locationLat: "40.42",
    tags: "[]",
    xps: "500",
    Visits: "10000",
    Likes: "100",
    Dislikes: "10",
    Bookmarks: "5",
    main_image_path: `data_main/${id}/main.jpg`,
    ...overrides,
  };
  return CSV_COLUMNS.map((c) => fields[c]).join(",");
}

/** A temp dataset folder with poi_dataset.csv and solid-colour images for the given ids. */
export async function makeDataset(lines: string[], imageIds: string[], header = HEADER): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "poi-fixture-"));
  fs.writeFileSync(path.join(dir, "poi_dataset.csv"), [header, ...lines].join("\n") + "\n", "utf8");
  for (const id of imageIds) await writeJpeg(path.join(dir, "data_main", id, "main.jpg"), { r: 200, g: 100, b: 50 });
  return dir;
}

export async function writeJpeg(file: string, colour: { r: number; g: number; b: number }, size = 16): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp({ create: { width: size, height: size, channels: 3, background: colour } }).jpeg({ quality: 95 }).toFile(file);
}
