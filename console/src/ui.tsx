// Small pieces every page uses.

/**
 * An error line, announced by screen readers when it appears; nothing when `text` is null. `id`
 * lets the field it is about name it (aria-describedby).
 */
export function ErrorLine({ text, id }: { text: string | null; id?: string }) {
  if (text === null) return null;
  return (
    <p role="alert" class="error" id={id}>
      {text}
    </p>
  );
}

/** The outcome of a save: a status line, or an alert when it failed; nothing when null. */
export function Outcome({ message }: { message: { error: boolean; text: string } | null }) {
  if (message === null) return null;
  return (
    <span role={message.error ? 'alert' : 'status'} class={message.error ? 'error' : ''}>
      {message.text}
    </span>
  );
}
