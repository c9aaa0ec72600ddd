//! Embeds `templates/` (the config backends' minijinja templates) in the
//! binary: `src/backend/template.rs` loads them with
//! `minijinja_embed::load_templates!`. Template names are their paths under
//! `templates/` (`postfix/main.cf.j2`).

fn main() {
    minijinja_embed::embed_templates!("templates");
}
