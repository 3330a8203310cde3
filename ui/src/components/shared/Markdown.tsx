// Markdown from a server, sanitised: no raw HTML (react-markdown drops it without rehype-raw),
// links only http/https (opened through the confirmation) or mailto (shown, not opened), and
// images only as data: URLs of PNG, JPEG, GIF or WebP.
import { memo } from "react";
import ReactMarkdown, { type Components, type UrlTransform } from "react-markdown";
import { safeLinkUrl, safeMarkdownImage } from "../../lib/safety";
import { ExternalLink } from "./OpenLink";

export const urlTransform: UrlTransform = (url, key) => {
  if (key === "src") return safeMarkdownImage(url);
  if (key === "href") return safeLinkUrl(url);
  return "";
};

const components: Components = {
  a: ({ href, children }) => {
    if (href && /^https?:/i.test(href)) return <ExternalLink url={href}>{children}</ExternalLink>;
    if (href && /^mailto:/i.test(href)) {
      return (
        <span className="mail-link" title={href.replace(/^mailto:/i, "")}>
          {children}
        </span>
      );
    }
    return <span className="dead-link">{children}</span>;
  },
  img: ({ src, alt }) => {
    if (typeof src === "string" && src.startsWith("data:image/")) return <img src={src} alt={alt ?? ""} className="md-image" />;
    return <span className="muted">[image{alt ? `: ${alt}` : ""}]</span>;
  },
};

export const Markdown = memo(function Markdown({ text, className }: { text: string; className?: string }) {
  return (
    <div className={`markdown ${className ?? ""}`}>
      <ReactMarkdown skipHtml urlTransform={urlTransform} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
