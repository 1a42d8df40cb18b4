// TypeDoc plugin (see typedoc.json): the stages override Node's stream implementation hooks,
// which callers never call, so the API reference leaves them out.
import { Converter, ReflectionKind } from 'typedoc';

const hooks = new Set(['_construct', '_destroy', '_final', '_flush', '_read', '_transform', '_write', '_writev']);

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const method of context.project.getReflectionsByKind(ReflectionKind.Method)) {
      if (hooks.has(method.name)) context.project.removeReflection(method);
    }
  });
}
