/**
 * Scratch memory for images that live a moment: the intermediate and final images of augmenting one batch, copied
 * into the batch's pixels straight after. Each fresh Float32Array of a 224 px image is 600 KB outside the JS heap,
 * and V8 answers every ~64 MB of such allocations with a full garbage collection, whose cost grows with the heap:
 * in a notebook kernel (the TypeScript compiler's heap) a preset ran 30–40 % slower for it. Views into a few large
 * reused buffers cost the collector nothing.
 *
 *   const arena = new ImageArena();
 *   arena.run(() => { const out = aug.apply(image, rng); pixels.set(out.data, offset); });  // out is only valid inside
 *
 * Inside `run`, lib/images allocates image data with `imageData` from the arena (zero-filled, as a new array is); the
 * next `run` reuses the same memory, so nothing made inside may be kept. Outside any `run` it is a plain new array.
 */
export class ImageArena {
  private readonly chunks: ArrayBuffer[] = [];
  private chunk = 0;
  private offset = 0;

  /** `chunkBytes`: size of each backing buffer (a request larger than that gets a buffer of its own size). */
  constructor(private readonly chunkBytes = 64 * 1024 * 1024) {}

  run<T>(work: () => T): T {
    const previous = active;
    this.chunk = 0;
    this.offset = 0;
    active = this;
    try {
      return work();
    } finally {
      active = previous;
    }
  }

  allocate(length: number): Float32Array {
    const bytes = length * 4;
    for (;;) {
      if (this.chunk === this.chunks.length) this.chunks.push(new ArrayBuffer(Math.max(this.chunkBytes, bytes)));
      const buffer = this.chunks[this.chunk];
      if (this.offset + bytes <= buffer.byteLength) {
        const data = new Float32Array(buffer, this.offset, length);
        this.offset += bytes;
        data.fill(0);
        return data;
      }
      this.chunk++;
      this.offset = 0;
    }
  }
}

let active: ImageArena | null = null;

/** Zero-filled data for an image of `length` values: from the running arena, else a new array. */
export function imageData(length: number): Float32Array {
  return active ? active.allocate(length) : new Float32Array(length);
}
