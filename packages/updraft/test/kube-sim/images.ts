/** Which images this "node" can pull, and how their containers run. */
import { imageRepo } from "./faults.js";
import type { ImageSpec } from "./types.js";

/** Shell images run their commands from the host (`sh`, `echo`, `cat`, `sleep`…); CMD is `sh`. */
const SHELL: ImageSpec = { cmd: ["sh"] };
export const DEFAULT_IMAGES: Record<string, ImageSpec> = {
  busybox: SHELL,
  alpine: SHELL,
  bash: { cmd: ["bash"] },
  ubuntu: { cmd: ["bash"] },
  debian: { cmd: ["bash"] },
};

/**
 * The spec of an image, or undefined when it cannot be pulled. "docker.io/library/busybox:1.36",
 * "library/busybox" and "busybox" are one image, as a container runtime sees them.
 */
export function resolveImage(images: Record<string, ImageSpec>, image: string): ImageSpec | undefined {
  const normal = normalize(image);
  const candidates = [image, normal, imageRepo(image), imageRepo(normal)];
  for (const c of candidates) {
    const spec = images[c];
    if (spec !== undefined) return spec;
  }
  return undefined;
}

function normalize(image: string): string {
  return image.replace(/^docker\.io\//, "").replace(/^library\//, "");
}
