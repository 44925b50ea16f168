use serde_json::json;

use crate::helpers::spawn_app;

#[test]
fn schema_graphql_is_what_the_code_exports() {
    let exported = leadq::graphql::schema::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    if std::env::var("UPDATE_SCHEMA").is_ok() {
        std::fs::write(path, &exported).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != exported {
        let first_difference = committed
            .lines()
            .zip(exported.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {}: committed {a:?}, exported {b:?}", i + 1))
            .unwrap_or_else(|| "one file is a prefix of the other".to_owned());
        panic!(
            "schema.graphql is out of date ({first_difference}).\n\
             Regenerate it with `UPDATE_SCHEMA=1 cargo test --test api schema` \
             (or `cargo run -- schema > schema.graphql`) and review the diff: \
             clients are generated from it."
        );
    }
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let app = spawn_app().await;
    let data = app
        .ok(
            "{ __schema { types { name kind description
                fields { name description args { name description } }
                inputFields { name description }
                enumValues { name description } } } }",
            json!({}),
        )
        .await;
    let mut missing = Vec::new();
    for t in data["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || ["String", "Int", "Boolean", "ID", "Float"].contains(&name) {
            continue;
        }
        let empty = |v: &serde_json::Value| v.as_str().is_none_or(str::is_empty);
        if empty(&t["description"]) {
            missing.push(name.to_owned());
        }
        for key in ["fields", "inputFields", "enumValues"] {
            for f in t[key].as_array().into_iter().flatten() {
                if empty(&f["description"]) {
                    missing.push(format!("{name}.{}", f["name"].as_str().unwrap()));
                }
                for a in f["args"].as_array().into_iter().flatten() {
                    if empty(&a["description"]) {
                        missing.push(format!(
                            "{name}.{}({})",
                            f["name"].as_str().unwrap(),
                            a["name"].as_str().unwrap()
                        ));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
}
