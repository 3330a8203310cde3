//! A server's tool list as a connection caches it: the views, an index by name, and each tool's
//! input schema compiled on the tool's first call — kept exactly as long as the list, so a
//! `list_changed` that drops the list drops its compiled schemas with it. On MCP 2026-07-28 a
//! server also says how long its list may be kept (`ttlMs`): past that, the list is stale and
//! listed again. (rmcp's own response cache honours `ttlMs` too, but this list outlives it.)

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use super::{ToolView, schema::CompiledSchema};

pub(crate) struct ToolList {
    views: Arc<Vec<ToolView>>,
    /// The first tool of each name (as a search from the start would find it).
    by_name: HashMap<String, usize>,
    /// Parallel to `views`.
    schemas: Vec<OnceLock<CompiledSchema>>,
    /// When the server's `ttlMs` runs out; `None`: kept until the server says it changed.
    stale_at: Option<Instant>,
}

impl ToolList {
    pub(crate) fn new(views: Vec<ToolView>) -> Self {
        let mut by_name = HashMap::with_capacity(views.len());
        for (index, view) in views.iter().enumerate() {
            by_name.entry(view.name.clone()).or_insert(index);
        }
        Self {
            schemas: views.iter().map(|_| OnceLock::new()).collect(),
            views: Arc::new(views),
            by_name,
            stale_at: None,
        }
    }

    /// The list may be kept for `ttl` (the server's `ttlMs`; zero: not kept at all), or, with
    /// `None`, until the server says it changed. A `ttl` beyond a day counts as a day, as in
    /// rmcp's cache.
    pub(crate) fn fresh_for(mut self, ttl: Option<Duration>) -> Self {
        self.stale_at = ttl.map(|ttl| Instant::now() + ttl.min(rmcp::MAX_CLIENT_CACHE_TTL));
        self
    }

    /// Whether the list may still be used without listing again.
    pub(crate) fn is_fresh(&self) -> bool {
        self.stale_at.is_none_or(|at| Instant::now() < at)
    }

    pub(crate) fn views(&self) -> &Arc<Vec<ToolView>> {
        &self.views
    }

    /// The tool called `name` (its schema not compiled).
    pub(crate) fn view(&self, name: &str) -> Option<&ToolView> {
        self.by_name.get(name).map(|&index| &self.views[index])
    }

    /// The tool called `name`, with its compiled input schema (compiled now if this is its
    /// first call).
    pub(crate) fn get(&self, name: &str) -> Option<(&ToolView, &CompiledSchema)> {
        let index = *self.by_name.get(name)?;
        let view = &self.views[index];
        let cell = &self.schemas[index];
        // Compiled outside the cell: two first calls at once may both compile (one result is
        // kept), but no task blocks on another's compilation.
        if cell.get().is_none() {
            let _ = cell.set(CompiledSchema::new(&view.input_schema));
        }
        Some((view, cell.get()?))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::tools::schema::Check;

    fn tool(name: &str, schema: serde_json::Value) -> ToolView {
        ToolView {
            name: name.into(),
            title: None,
            description: None,
            input_schema: schema,
            output_schema: None,
            annotations: Default::default(),
            ui: None,
        }
    }

    #[test]
    fn finds_tools_by_name_and_compiles_their_schema_once() {
        let list = ToolList::new(vec![
            tool("a", json!({"type": "object", "required": ["x"]})),
            tool("b", json!({"type": "object"})),
            tool("a", json!({"type": "object"})),
        ]);
        assert!(list.get("c").is_none());
        let (view, schema) = list.get("a").unwrap();
        assert_eq!(view.input_schema["required"], json!(["x"]), "the first `a`");
        assert!(matches!(schema.check(&json!({})), Check::Invalid(_)));
        let again = list.get("a").unwrap().1;
        assert!(std::ptr::eq(schema, again), "compiled once");
        assert_eq!(list.get("b").unwrap().1.check(&json!({})), Check::Valid);
        assert_eq!(list.views().len(), 3);
    }

    #[test]
    fn a_list_is_kept_as_long_as_the_server_says() {
        let list = || ToolList::new(vec![tool("a", json!({"type": "object"}))]);
        assert!(list().is_fresh(), "no ttlMs: kept until list_changed");
        assert!(list().fresh_for(None).is_fresh());
        assert!(
            !list().fresh_for(Some(Duration::ZERO)).is_fresh(),
            "ttlMs 0"
        );
        assert!(list().fresh_for(Some(Duration::from_secs(300))).is_fresh());
        assert!(
            list().fresh_for(Some(Duration::MAX)).is_fresh(),
            "a huge ttlMs is capped, not an overflow"
        );
    }
}
