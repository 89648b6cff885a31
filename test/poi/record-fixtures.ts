import type { PoiRecord } from "../../lib/poi";

/** A PoiRecord with sensible defaults; override what a test cares about. */
export function poi(row: number, fields: Partial<PoiRecord> = {}): PoiRecord {
  return {
    row,
    id: `id-${row}`,
    name: `POI ${row}`,
    shortDescription: "",
    categories: ["Historia"],
    tier: 1,
    locationLon: -3.7,
    locationLat: 40.4,
    tags: [],
    xps: 500,
    Visits: 10000 + row,
    Likes: 100 + row * 7,
    Dislikes: 50 + ((row * 13) % 97),
    Bookmarks: 50 + ((row * 5) % 31),
    mainImagePath: `data_main/id-${row}/main.jpg`,
    ...fields,
  };
}
