// Live recognition without flooding the server: at most one request in flight, no more often than
// every `interval` ms, and whatever was drawn last is what gets sent next (the latest drawing wins).

export class LiveRunner {
  /**
   * @param {(version: number) => Promise<void>} job sends the drawing as it is when called
   * @param {number} interval minimum ms between the starts of two requests while drawing
   * @param {(busy: boolean) => void} onBusy told when work starts (something pending or in flight) and ends
   */
  constructor(job, interval = 120, onBusy = () => {}) {
    this.job = job;
    this.interval = interval;
    this.onBusy = onBusy;
    this.busy = false;
    this.version = 0; // bumped on every change of the drawing
    this.floor = 0; // answers to versions below this one describe a drawing that is gone
    this.inFlight = false;
    this.pending = false;
    this.lastStart = -Infinity;
    this.timer = null;
  }

  /** The drawing changed; `now` skips the throttle delay (used on pointer-up). */
  changed(now = false) {
    this.version += 1;
    this.pending = true;
    this.#pump(now);
    this.#report();
  }

  /** Forget anything pending (cleared canvas, other model): answers still in flight become stale. */
  cancel() {
    this.version += 1;
    this.floor = this.version;
    this.pending = false;
    clearTimeout(this.timer);
    this.timer = null;
    this.#report();
  }

  /** Whether an answer to the drawing of `version` should be thrown away rather than shown. */
  isStale(version) {
    return version < this.floor;
  }

  #pump(now = false) {
    if (!this.pending || this.inFlight) return;
    const wait = now ? 0 : this.lastStart + this.interval - performance.now();
    if (wait > 0) {
      if (this.timer === null) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.#pump();
        }, wait);
      }
      return;
    }
    clearTimeout(this.timer);
    this.timer = null;
    this.pending = false;
    this.inFlight = true;
    this.lastStart = performance.now();
    Promise.resolve(this.job(this.version))
      .catch(() => {}) // the job reports its own errors
      .finally(() => {
        this.inFlight = false;
        this.#pump();
        this.#report();
      });
  }

  #report() {
    const busy = this.inFlight || this.pending;
    if (busy !== this.busy) {
      this.busy = busy;
      this.onBusy(busy);
    }
  }
}
