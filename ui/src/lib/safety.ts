// What may leave a server's text and become a link or a picture. Everything else is text.

/** Links that may be offered at all (mailto is shown, never opened by Latch). */
export function safeLinkUrl(url: string): string {
  const trimmed = url.trim();
  if (/^https?:\/\//i.test(trimmed) || /^mailto:/i.test(trimmed)) {
    try {
      const parsed = new URL(trimmed);
      if (parsed.protocol === "http:" || parsed.protocol === "https:" || parsed.protocol === "mailto:") return trimmed;
    } catch {
      return "";
    }
  }
  return "";
}

export function isWebUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:";
  } catch {
    return false;
  }
}

export const IMAGE_MIME_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;
export const AUDIO_MIME_TYPES = [
  "audio/wav",
  "audio/x-wav",
  "audio/wave",
  "audio/mpeg",
  "audio/mp3",
  "audio/ogg",
  "audio/webm",
  "audio/mp4",
  "audio/aac",
  "audio/flac",
] as const;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function normalizeMime(mime: string | null | undefined): string {
  return (mime ?? "").split(";")[0].trim().toLowerCase();
}

/** A data: URL for an image of an allowed type (never SVG), or null. */
export function imageDataUrl(mimeType: string | null | undefined, base64: string): string | null {
  const mime = normalizeMime(mimeType);
  if (!(IMAGE_MIME_TYPES as readonly string[]).includes(mime)) return null;
  const data = base64.replace(/\s+/g, "");
  if (!BASE64.test(data)) return null;
  return `data:${mime};base64,${data}`;
}

export function audioDataUrl(mimeType: string | null | undefined, base64: string): string | null {
  const mime = normalizeMime(mimeType);
  if (!(AUDIO_MIME_TYPES as readonly string[]).includes(mime)) return null;
  const data = base64.replace(/\s+/g, "");
  if (!BASE64.test(data)) return null;
  return `data:${mime};base64,${data}`;
}

/** A data: image URL written in markdown, when it is one of the allowed types. */
export function safeMarkdownImage(src: string): string {
  const m = /^data:(image\/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/=\s]+)$/i.exec(src.trim());
  if (!m) return "";
  return imageDataUrl(m[1], m[2]) ?? "";
}

/** Whether text is worth rendering as markdown (else it is shown preformatted). */
export function looksLikeMarkdown(text: string): boolean {
  if (text.length > 200_000) return false;
  return (
    /^\s{0,3}#{1,6}\s+\S/m.test(text) ||
    /^\s{0,3}([-*+]|\d+\.)\s+\S/m.test(text) ||
    /\[[^\]]+\]\([^)]+\)/.test(text) ||
    /(\*\*|__)[^*_\n]+\1/.test(text) ||
    /^\s{0,3}```/m.test(text) ||
    /^\s{0,3}>\s/m.test(text) ||
    /^\|.+\|\s*$/m.test(text) ||
    /`[^`\n]+`/.test(text)
  );
}
