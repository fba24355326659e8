/** Listeners called in turn on a hot path: a plain array, and the function that removes one again. */
export class ListenerList<T> {
  readonly items: T[] = [];

  add(listener: T): () => void {
    this.items.push(listener);
    return () => {
      const i = this.items.indexOf(listener);
      if (i >= 0) this.items.splice(i, 1);
    };
  }
}
