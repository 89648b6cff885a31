/**
 * Pretrained weights for a fresh checkout (README: "Pretrained weights").
 *
 *   npm run weights:download   # the public mobilenet_v2_1.0_224_quant.tflite (+ LICENSE, labels) from
 *                              # google-coral/test_data at a pinned commit; sha256 checked, refused on mismatch
 *   npm run weights:convert    # that file → the float tfjs LayersModel in models/mobilenet_v2_1.0_224/tfjs/
 *   npm run weights:convert -- --tflite <file.tflite>      # convert a copy you already have
 *
 * Both write under $POI_MODELS_DIR when it is set, else models/ (git-ignored).
 */
import * as tf from "@tensorflow/tfjs";
import { convertMobileNetV2, downloadMobileNetV2, MOBILENET_V2_SOURCE, writableModelsDir } from "../lib/engine/weights";

function usage(): never {
  console.error("usage: tsx scripts/weights.ts download | convert [--tflite <file.tflite>]");
  process.exit(2);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const log = (line: string) => console.log(line);
  if (command === "download") {
    if (rest.length > 0) usage();
    console.log(
      `MobileNetV2 (ImageNet, 8-bit TFLite) from ${MOBILENET_V2_SOURCE.repository} @ ${MOBILENET_V2_SOURCE.commit.slice(0, 12)} ` +
        `(${MOBILENET_V2_SOURCE.licence}) → ${writableModelsDir()}`,
    );
    await downloadMobileNetV2({ log });
    console.log("next: npm run weights:convert");
  } else if (command === "convert") {
    let tflite: string | undefined;
    if (rest.length === 2 && rest[0] === "--tflite") tflite = rest[1];
    else if (rest.length > 0) usage();
    await tf.setBackend("cpu");
    const report = await convertMobileNetV2({ tflite, log });
    if (!report.matchesReference) {
      console.error("the converted weights differ from the reference conversion: the model is not the one the project was tested with");
      process.exit(1);
    }
  } else usage();
}

main().catch((err: Error) => {
  console.error(`weights: ${err.message}`);
  process.exit(1);
});
