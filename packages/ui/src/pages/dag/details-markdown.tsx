// A DAG's doc_md as Markdown (GitHub's flavour: tables, task lists, strikethrough). Raw HTML in
// the Markdown is never rendered as elements (react-markdown's default, no rehype-raw: it shows as
// text), and links and images keep only http(s) and mailto addresses: doc_md is user-written text.
import Markdown from "react-markdown";
import remarkGfm from "remark-gfm";

const SAFE_URL = /^(https?:|mailto:)/i;

/** Keeps http, https and mailto URLs; anything else (javascript:, data:, relative) becomes "". */
export function safeUrl(url: string): string {
  return SAFE_URL.test(url.trim()) ? url : "";
}

export function DocMarkdown({ text }: { text: string }) {
  return (
    <div className="doc markdown">
      <Markdown
        remarkPlugins={[remarkGfm]}
        urlTransform={safeUrl}
        components={{
          a: ({ node: _node, href, children, ...rest }) =>
            href ? (
              <a href={href} rel="noopener noreferrer nofollow" target="_blank" {...rest}>
                {children}
              </a>
            ) : (
              <span>{children}</span>
            ),
        }}
      >
        {text}
      </Markdown>
    </div>
  );
}
