/**
 * Finds the route (the handler) for a delivery's topic among the routes of one queue: an exact pattern first, then
 * AMQP-style wildcards (`*` exactly one dot-separated word, `#` zero or more words).
 */
export class TopicRouter<Route extends { pattern: string }> {
  private readonly exact = new Map<string, Route>();
  private readonly wildcards: Array<{ words: string[]; route: Route }> = [];

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      this.exact.set(route.pattern, route);
      const words = route.pattern.split('.');
      if (words.some((word) => word === '*' || word === '#')) this.wildcards.push({ words, route });
    }
  }

  match(topic: string): Route | undefined {
    const route = this.exact.get(topic);
    if (route || this.wildcards.length === 0) return route;
    const words = topic.split('.');
    return this.wildcards.find((w) => matchesWords(w.words, 0, words, 0))?.route;
  }
}

export function matchesWords(pattern: readonly string[], p: number, topic: readonly string[], t: number): boolean {
  if (p === pattern.length) return t === topic.length;
  const word = pattern[p];
  if (word === '#') {
    for (let skip = t; skip <= topic.length; skip++) if (matchesWords(pattern, p + 1, topic, skip)) return true;
    return false;
  }
  if (t === topic.length) return false;
  return (word === '*' || word === topic[t]) && matchesWords(pattern, p + 1, topic, t + 1);
}
