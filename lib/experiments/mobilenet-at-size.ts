import { loadMobileNetV2, type Backbone } from "../engine";

/**
 * The ImageNet MobileNetV2 with another square input size (it is fully convolutional up to `global_pool`):
 * e.g. 128 px, the photos' native size, instead of upsampling them to 224. Same weights, ~3× fewer FLOPs,
 * a different embedding (the receptive fields see relatively larger objects). The same as
 * `loadMobileNetV2(source, { inputSize: size })` (frozen, so it embeds on the engine's fastest path).
 */
export function loadMobileNetV2AtSize(size: number, source?: string): Promise<Backbone> {
  return loadMobileNetV2(source, { inputSize: size });
}
