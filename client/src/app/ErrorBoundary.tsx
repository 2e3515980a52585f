import { Component, type ReactNode } from 'react';

interface Props {
  /** Shown instead of the children once they failed to render. */
  fallback: ReactNode;
  /** A new value gives the children another chance (e.g. another conversation was opened). */
  resetKey?: unknown;
  children: ReactNode;
}

interface State {
  failed: boolean;
  resetKey: unknown;
}

/**
 * Keeps a render error inside the part that failed: one malformed message
 * shows as "cannot be shown" instead of unmounting the whole app (React
 * removes the entire tree on an uncaught render error).
 */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { failed: false, resetKey: this.props.resetKey };

  static getDerivedStateFromError(): Partial<State> {
    return { failed: true };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    return props.resetKey !== state.resetKey ? { failed: false, resetKey: props.resetKey } : null;
  }

  override componentDidCatch(error: unknown): void {
    console.error('a part of the page could not be shown', error);
  }

  override render(): ReactNode {
    return this.state.failed ? this.props.fallback : this.props.children;
  }
}
