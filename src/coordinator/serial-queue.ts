/**
 * Runs tasks strictly one after another. A Durable Object's input gate opens while it awaits D1,
 * so without this two mutations of one model would interleave across those awaits.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // The next task waits for this one to settle, success or failure.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
