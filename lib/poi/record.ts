/** One row of poi_dataset.csv, parsed and validated. */
export interface PoiRecord {
  /** 1-based data row number in the CSV (header excluded), for error messages and audits. */
  row: number;
  id: string;
  name: string;
  shortDescription: string;
  /** Parsed from the Python-style list string, e.g. "['Escultura', 'Pintura']". */
  categories: string[];
  /** 1–4. */
  tier: number;
  locationLon: number;
  locationLat: number;
  /** Parsed from the Python-style list string; may be empty. */
  tags: string[];
  xps: number;
  /** Target-defining counts: never model inputs. */
  Visits: number;
  Likes: number;
  Dislikes: number;
  Bookmarks: number;
  /** As written in the CSV, relative to the dataset dir, e.g. "data_main/<id>/main.jpg". */
  mainImagePath: string;
}

/** The columns that define the engagement target. They must never become model inputs. */
export const TARGET_COLUMNS = ["Visits", "Likes", "Dislikes", "Bookmarks"] as const;
export type TargetColumn = (typeof TARGET_COLUMNS)[number];

/** Column names of poi_dataset.csv, in file order. */
export const CSV_COLUMNS = [
  "id",
  "name",
  "shortDescription",
  "categories",
  "tier",
  "locationLon",
  "locationLat",
  "tags",
  "xps",
  "Visits",
  "Likes",
  "Dislikes",
  "Bookmarks",
  "main_image_path",
] as const;
