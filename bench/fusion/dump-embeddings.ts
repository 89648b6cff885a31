// Prototype helper: MobileNetV2 embeddings of every row, written as raw float32 for the Python prototypes.
import * as fs from "fs";
import { loadPoiDataset, imagePath, resolveDataDir } from "../../lib/data";
import { initEngine, loadMobileNetV2, embedImages } from "../../lib/engine";

async function main() {
  await initEngine();
  const { records } = loadPoiDataset();
  const dir = resolveDataDir();
  const files = records.map((r) => imagePath(dir, r));
  const backbone = await loadMobileNetV2();
  const { embeddings, seconds } = await embedImages({ backbone, files });
  fs.writeFileSync(process.argv[2] ?? "/tmp/fus/emb.f32", Buffer.from(embeddings.data.buffer));
  console.log(embeddings.rows, embeddings.dim, seconds);
}
main();
