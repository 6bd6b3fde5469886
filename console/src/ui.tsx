// Small pieces every page uses.

/** An error line, announced by screen readers when it appears; nothing when `text` is null. */
export function ErrorLine({ text }: { text: string | null }) {
  if (text === null) return null;
  return (
    <p role="alert" class="error">
      {text}
    </p>
  );
}
