//! Custom fields and administrator-defined field mappings (issue 16): definitions with their
//! checks, archive and restore, values on leads validated against the definitions, mappings as
//! data (added, refused when the types do not fit, standard ones disabled and re-enabled), and
//! custom values carried over by qualifyLead, qualifyLeads, a job and shown by the preview.

use std::time::{Duration, Instant};

use entity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, error_field, spawn_app};

const CREATE_FIELD: &str = "mutation($input: CreateCustomFieldInput!) {
    createCustomField(input: $input) { definition { id recordType name label type required
    maxLength options description archived } } }";
const ADD_MAPPING: &str = "mutation($input: AddFieldMappingInput!) {
    addFieldMapping(input: $input) { mapping { id target sourceField targetField standard
    enabled } } }";
const CREATE_LEAD: &str = "mutation($input: CreateLeadInput!) { createLead(input: $input) {
    lead { id customFields { name type value } } } }";
const CUSTOM: &str = "customFields { name type value }";

async fn field(app: &TestApp, input: Value) -> Value {
    app.ok(CREATE_FIELD, json!({ "input": input })).await["createCustomField"]["definition"].clone()
}

async fn map(app: &TestApp, target: &str, source: &str, target_field: &str) -> Value {
    app.ok(
        ADD_MAPPING,
        json!({ "input": { "target": target, "sourceField": source, "targetField": target_field } }),
    )
    .await["addFieldMapping"]["mapping"]
        .clone()
}

async fn lead_with(app: &TestApp, input: Value) -> Value {
    let mut full = json!({ "topic": "Custom fields", "lastName": "Doe", "companyName": "Acme" });
    for (k, v) in input.as_object().unwrap() {
        full[k] = v.clone();
    }
    app.ok(CREATE_LEAD, json!({ "input": full })).await["createLead"]["lead"].clone()
}

fn values(record: &Value) -> Value {
    let mut map = serde_json::Map::new();
    for v in record["customFields"].as_array().unwrap() {
        map.insert(v["name"].as_str().unwrap().to_owned(), v["value"].clone());
    }
    Value::Object(map)
}

#[tokio::test]
async fn an_administrator_defines_fields_that_leads_carry_validated() {
    let app = spawn_app().await;
    let segment = field(
        &app,
        json!({ "recordType": "LEAD", "name": "segment", "label": "Industry segment",
                "type": "CHOICE", "options": ["SMB", "ENTERPRISE"], "description": "Who buys" }),
    )
    .await;
    assert_eq!(segment["type"], "CHOICE");
    assert_eq!(segment["options"], json!(["SMB", "ENTERPRISE"]));
    assert_eq!(segment["archived"], false);
    let code = field(
        &app,
        json!({ "recordType": "LEAD", "name": "code", "label": "Code", "type": "TEXT",
                "maxLength": 5, "required": true }),
    )
    .await;
    assert_eq!(code["maxLength"], 5);
    field(
        &app,
        json!({ "recordType": "LEAD", "name": "seats", "label": "Seats", "type": "INTEGER" }),
    )
    .await;

    let lead = lead_with(
        &app,
        json!({ "customFields": [
            { "name": "segment", "value": "SMB" },
            { "name": "code", "value": " AB1 " },
            { "name": "seats", "value": 12 } ] }),
    )
    .await;
    assert_eq!(
        values(&lead),
        json!({ "segment": "SMB", "code": "AB1", "seats": 12 })
    );
    assert_eq!(lead["customFields"][0]["type"], "CHOICE");

    // Each rule names the field it breaks.
    for (custom, field) in [
        (
            json!([{ "name": "code", "value": "TOOLONG" }]),
            "customFields.code",
        ),
        (
            json!([{ "name": "code", "value": "A" }, { "name": "segment", "value": "HUGE" }]),
            "customFields.segment",
        ),
        (
            json!([{ "name": "code", "value": "A" }, { "name": "seats", "value": "many" }]),
            "customFields.seats",
        ),
        (
            json!([{ "name": "code", "value": "A" }, { "name": "nope", "value": 1 }]),
            "customFields.1.name",
        ),
        (json!([]), "customFields.code"),
    ] {
        let body = app
            .graphql(
                CREATE_LEAD,
                json!({ "input": { "topic": "T", "lastName": "L", "customFields": custom } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
        assert_eq!(error_field(&body), field, "{body:#}");
    }

    // Update sets and clears; a required field cannot be cleared.
    let update = "mutation($input: UpdateLeadInput!) { updateLead(input: $input) {
        lead { customFields { name type value } } } }";
    let updated = app
        .ok(
            update,
            json!({ "input": { "id": lead["id"], "customFields": [
                { "name": "segment", "value": null }, { "name": "seats", "value": 40 } ] } }),
        )
        .await;
    assert_eq!(
        values(&updated["updateLead"]["lead"]),
        json!({ "code": "AB1", "seats": 40 })
    );
    let body = app
        .graphql(
            update,
            json!({ "input": { "id": lead["id"], "customFields": [
                { "name": "code", "value": null } ] } }),
        )
        .await;
    assert_eq!(error_field(&body), "customFields.code", "{body:#}");

    // Names: unique per record type, never a standard field's.
    for (name, record_type) in [("segment", "LEAD"), ("email", "LEAD"), ("Bad_name", "LEAD")] {
        let body = app
            .graphql(
                CREATE_FIELD,
                json!({ "input": { "recordType": record_type, "name": name, "label": "X",
                                   "type": "BOOLEAN" } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{name}: {body:#}");
        assert_eq!(error_field(&body), "name", "{body:#}");
    }
    field(
        &app,
        json!({ "recordType": "ACCOUNT", "name": "segment", "label": "Segment", "type": "BOOLEAN" }),
    )
    .await;

    // Only System Administrators define fields.
    let (_, seller) = app.user("seller", &[Role::Salesperson]).await;
    let body = app
        .graphql_as(
            &seller,
            CREATE_FIELD,
            json!({ "input": { "recordType": "LEAD", "name": "other", "label": "X",
                               "type": "BOOLEAN" } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");

    let listed = app
        .ok(
            "{ customFieldDefinitions(recordType: LEAD) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["customFieldDefinitions"],
        json!([{ "name": "segment" }, { "name": "code" }, { "name": "seats" }])
    );
}

#[tokio::test]
async fn archived_fields_hide_their_values_and_restore_them_every_change_audited() {
    let app = spawn_app().await;
    let tier = field(
        &app,
        json!({ "recordType": "LEAD", "name": "tier", "label": "Tier", "type": "CHOICE",
                "options": ["GOLD"] }),
    )
    .await;
    let lead = lead_with(
        &app,
        json!({ "customFields": [{ "name": "tier", "value": "GOLD" }] }),
    )
    .await;
    let archive = "mutation($id: ID!) { archiveCustomField(input: { id: $id }) {
        definition { archived } } }";
    let restore = "mutation($id: ID!) { restoreCustomField(input: { id: $id }) {
        definition { archived } } }";
    let data = app.ok(archive, json!({ "id": tier["id"] })).await;
    assert_eq!(data["archiveCustomField"]["definition"]["archived"], true);
    assert_eq!(read(&app, &lead["id"]).await["customFields"], json!([]));
    // Archived: not settable either.
    let body = app
        .graphql(
            CREATE_LEAD,
            json!({ "input": { "topic": "T", "lastName": "L",
                               "customFields": [{ "name": "tier", "value": "GOLD" }] } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");

    let data = app.ok(restore, json!({ "id": tier["id"] })).await;
    assert_eq!(data["restoreCustomField"]["definition"]["archived"], false);
    assert_eq!(
        values(&read(&app, &lead["id"]).await),
        json!({ "tier": "GOLD" })
    );

    // Options may be added, never removed.
    let update = "mutation($input: UpdateCustomFieldInput!) { updateCustomField(input: $input) {
        definition { label options required } } }";
    let data = app
        .ok(
            update,
            json!({ "input": { "id": tier["id"], "label": "Customer tier",
                               "options": ["GOLD", "SILVER"], "required": true } }),
        )
        .await;
    assert_eq!(
        data["updateCustomField"]["definition"],
        json!({ "label": "Customer tier", "options": ["GOLD", "SILVER"], "required": true })
    );
    let body = app
        .graphql(
            update,
            json!({ "input": { "id": tier["id"], "options": ["SILVER"] } }),
        )
        .await;
    assert_eq!(error_field(&body), "options", "{body:#}");

    let events = app
        .ok(
            "query($id: ID!) { auditEvents(recordId: $id) { action } }",
            json!({ "id": tier["id"] }),
        )
        .await;
    let actions: Vec<&str> = events["auditEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["CREATED", "ARCHIVED", "RESTORED", "UPDATED"]);
}

async fn read(app: &TestApp, id: &Value) -> Value {
    app.ok(
        &format!("query($id: ID!) {{ lead(id: $id) {{ {CUSTOM} }} }}"),
        json!({ "id": id }),
    )
    .await["lead"]
        .clone()
}

/// The custom fields of the "done when": a lead field mapped onto an opportunity field.
async fn segment_mapped_onto_opportunities(app: &TestApp) {
    field(
        app,
        json!({ "recordType": "LEAD", "name": "segment", "label": "Industry segment",
                "type": "CHOICE", "options": ["SMB", "ENTERPRISE"] }),
    )
    .await;
    field(
        app,
        json!({ "recordType": "OPPORTUNITY", "name": "segment", "label": "Segment",
                "type": "CHOICE", "options": ["SMB", "ENTERPRISE", "PUBLIC"] }),
    )
    .await;
    let mapping = map(app, "OPPORTUNITY", "segment", "segment").await;
    assert_eq!(mapping["standard"], false);
    assert_eq!(mapping["enabled"], true);
}

#[tokio::test]
async fn a_mapped_custom_value_is_carried_over_by_qualify_lead_qualify_leads_and_a_job() {
    let app = spawn_app().await;
    segment_mapped_onto_opportunities(&app).await;
    let lead = |n: usize| {
        lead_with(
            &app,
            json!({ "lastName": format!("Person{n}"), "companyName": format!("Co {n}"),
                    "customFields": [{ "name": "segment", "value": "ENTERPRISE" }] }),
        )
    };
    let (a, b, c, d) = (lead(1).await, lead(2).await, lead(3).await, lead(4).await);

    // The preview shows it.
    let preview = app
        .ok(
            "query($input: QualifyLeadInput!) { previewQualification(input: $input) {
                opportunities { fields { field sourceField value } } } }",
            json!({ "input": { "leadId": a["id"] } }),
        )
        .await;
    let fields = &preview["previewQualification"]["opportunities"][0]["fields"];
    assert!(
        fields.as_array().unwrap().contains(
            &json!({ "field": "Segment", "sourceField": "Industry segment", "value": "ENTERPRISE" })
        ),
        "{fields:#}"
    );

    let single = app
        .ok(
            &format!(
                "mutation($input: QualifyLeadInput!) {{ qualifyLead(input: $input) {{
                    outcome opportunities {{ {CUSTOM} }} }} }}"
            ),
            json!({ "input": { "leadId": a["id"] } }),
        )
        .await;
    assert_eq!(single["qualifyLead"]["outcome"], "QUALIFIED");
    assert_eq!(
        values(&single["qualifyLead"]["opportunities"][0]),
        json!({ "segment": "ENTERPRISE" })
    );

    let bulk = app
        .ok(
            &format!(
                "mutation($input: QualifyLeadsInput!) {{ qualifyLeads(input: $input) {{
                    qualifiedCount results {{ opportunities {{ {CUSTOM} }} }} }} }}"
            ),
            json!({ "input": { "leadIds": [b["id"], c["id"]] } }),
        )
        .await;
    assert_eq!(bulk["qualifyLeads"]["qualifiedCount"], 2);
    for result in bulk["qualifyLeads"]["results"].as_array().unwrap() {
        assert_eq!(
            values(&result["opportunities"][0]),
            json!({ "segment": "ENTERPRISE" })
        );
    }

    let job = app
        .ok(
            "mutation($input: StartQualificationJobInput!) {
                startQualificationJob(input: $input) { job { id } } }",
            json!({ "input": { "leadIds": [d["id"]] } }),
        )
        .await["startQualificationJob"]["job"]["id"]
        .clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = app
            .ok(
                "query($id: ID!) { qualificationJob(id: $id) { state } }",
                json!({ "id": job }),
            )
            .await["qualificationJob"]["state"]
            .clone();
        if state == "SUCCEEDED" {
            break;
        }
        assert!(Instant::now() < deadline, "the job never ended: {state}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let qualified = app
        .ok(
            &format!(
                "query($id: ID!) {{ lead(id: $id) {{ state qualifyingOpportunity {{ {CUSTOM} }} }} }}"
            ),
            json!({ "id": d["id"] }),
        )
        .await;
    assert_eq!(qualified["lead"]["state"], "QUALIFIED");
    assert_eq!(
        values(&qualified["lead"]["qualifyingOpportunity"]),
        json!({ "segment": "ENTERPRISE" })
    );
}

#[tokio::test]
async fn ten_custom_fields_mapped_onto_each_record_type_all_arrive() {
    let app = spawn_app().await;
    // (type, extra definition, lead value, value on the targets)
    let kinds = [
        (
            "TEXT",
            json!({ "maxLength": 40 }),
            json!("plain text"),
            json!("plain text"),
        ),
        ("INTEGER", json!({}), json!(7), json!(7)),
        ("DECIMAL", json!({}), json!("12.50"), json!("12.5")),
        ("BOOLEAN", json!({}), json!(true), json!(true)),
        ("DATE", json!({}), json!("2026-11-30"), json!("2026-11-30")),
        (
            "DATETIME",
            json!({}),
            json!("2026-11-30T10:00:00Z"),
            json!("2026-11-30T10:00:00.000000Z"),
        ),
        (
            "CHOICE",
            json!({ "options": ["A", "B"] }),
            json!("B"),
            json!("B"),
        ),
        (
            "MULTI_CHOICE",
            json!({ "options": ["A", "B"] }),
            json!(["B", "A"]),
            json!(["A", "B"]),
        ),
        (
            "TEXT",
            json!({ "maxLength": 10 }),
            json!("short"),
            json!("short"),
        ),
        ("INTEGER", json!({}), json!(-3), json!(-3)),
    ];
    let mut lead_values = Vec::new();
    let mut expected = serde_json::Map::new();
    for (i, (kind, extra, value, target_value)) in kinds.iter().enumerate() {
        for record_type in ["LEAD", "ACCOUNT", "CONTACT", "OPPORTUNITY"] {
            let mut input = json!({ "recordType": record_type, "name": format!("f{i}"),
                                    "label": format!("Field {i}"), "type": kind });
            for (k, v) in extra.as_object().unwrap() {
                input[k] = v.clone();
            }
            field(&app, input).await;
        }
        for target in ["ACCOUNT", "CONTACT", "OPPORTUNITY"] {
            map(&app, target, &format!("f{i}"), &format!("f{i}")).await;
        }
        lead_values.push(json!({ "name": format!("f{i}"), "value": value }));
        expected.insert(format!("f{i}"), target_value.clone());
    }
    let lead = lead_with(&app, json!({ "customFields": lead_values })).await;
    let data = app
        .ok(
            &format!(
                "mutation($input: QualifyLeadInput!) {{ qualifyLead(input: $input) {{
                    account {{ {CUSTOM} }} contact {{ {CUSTOM} }} opportunities {{ {CUSTOM} }}
                }} }}"
            ),
            json!({ "input": { "leadId": lead["id"] } }),
        )
        .await;
    let q = &data["qualifyLead"];
    let expected = Value::Object(expected);
    assert_eq!(values(&q["account"]), expected);
    assert_eq!(values(&q["contact"]), expected);
    assert_eq!(values(&q["opportunities"][0]), expected);
}

#[tokio::test]
async fn mappings_are_checked_when_saved_and_standard_ones_disabled_not_removed() {
    let app = spawn_app().await;
    field(
        &app,
        json!({ "recordType": "LEAD", "name": "remarks", "label": "Remarks", "type": "TEXT",
                "maxLength": 100 }),
    )
    .await;
    field(
        &app,
        json!({ "recordType": "ACCOUNT", "name": "shortNotes", "label": "Short", "type": "TEXT",
                "maxLength": 50 }),
    )
    .await;
    field(
        &app,
        json!({ "recordType": "ACCOUNT", "name": "budget", "label": "Budget",
                "type": "DECIMAL" }),
    )
    .await;
    field(
        &app,
        json!({ "recordType": "ACCOUNT", "name": "flag", "label": "Flag", "type": "BOOLEAN" }),
    )
    .await;
    for (source, target, field) in [
        ("remarks", "shortNotes", "sourceField"),
        ("companyName", "flag", "sourceField"),
        ("nothing", "flag", "sourceField"),
        ("remarks", "name", "targetField"),
        ("remarks", "nothing", "targetField"),
    ] {
        let body = app
            .graphql(
                ADD_MAPPING,
                json!({ "input": { "target": "ACCOUNT", "sourceField": source,
                                   "targetField": target } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{source}: {body:#}");
        assert_eq!(error_field(&body), field, "{source}: {body:#}");
        if field == "sourceField" && source != "nothing" {
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(
                message.contains(source) && message.contains(target),
                "{message}"
            );
        }
    }
    // A standard lead field onto a custom one: the budget carries over exactly.
    let mapping = map(&app, "ACCOUNT", "budgetAmount", "budget").await;
    let body = app
        .graphql(
            ADD_MAPPING,
            json!({ "input": { "target": "ACCOUNT", "sourceField": "budgetAmount",
                               "targetField": "budget" } }),
        )
        .await;
    assert_eq!(error_field(&body), "targetField", "mapped twice: {body:#}");

    // The standard website mapping, disabled: the account gets no website.
    let listed = app
        .ok(
            "{ fieldMappings { id target sourceField targetField standard enabled documented
               sourceLabel targetLabel } }",
            json!({}),
        )
        .await;
    let rows = listed["fieldMappings"].as_array().unwrap();
    assert_eq!(rows.len(), 32);
    let website = rows
        .iter()
        .find(|r| r["target"] == "ACCOUNT" && r["targetField"] == "website")
        .unwrap();
    assert_eq!(website["standard"], true);
    assert_eq!(website["sourceLabel"], "Website");
    let toggle = "mutation($id: ID!, $enabled: Boolean!) { setFieldMappingEnabled(input:
        { id: $id, enabled: $enabled }) { mapping { enabled } } }";
    let data = app
        .ok(toggle, json!({ "id": website["id"], "enabled": false }))
        .await;
    assert_eq!(data["setFieldMappingEnabled"]["mapping"]["enabled"], false);
    let remove = "mutation($id: ID!) { removeFieldMapping(input: { id: $id }) {
        mapping { id } } }";
    let body = app.graphql(remove, json!({ "id": website["id"] })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");

    let lead = lead_with(
        &app,
        json!({ "website": "https://acme.example", "budgetAmount": "1500.25" }),
    )
    .await;
    let qualify = format!(
        "mutation($input: QualifyLeadInput!) {{ qualifyLead(input: $input) {{
            account {{ website {CUSTOM} }} }} }}"
    );
    let data = app
        .ok(&qualify, json!({ "input": { "leadId": lead["id"] } }))
        .await;
    assert_eq!(data["qualifyLead"]["account"]["website"], Value::Null);
    assert_eq!(
        values(&data["qualifyLead"]["account"]),
        json!({ "budget": "1500.25" })
    );

    // Re-enabled, and the added mapping removed: the website is back, the budget is not.
    app.ok(toggle, json!({ "id": website["id"], "enabled": true }))
        .await;
    app.ok(remove, json!({ "id": mapping["id"] })).await;
    let lead = lead_with(
        &app,
        json!({ "companyName": "Other Co", "website": "https://other.example",
                "budgetAmount": "10" }),
    )
    .await;
    let data = app
        .ok(&qualify, json!({ "input": { "leadId": lead["id"] } }))
        .await;
    assert!(
        data["qualifyLead"]["account"]["website"]
            .as_str()
            .is_some_and(|w| w.contains("other.example")),
        "{data:#}"
    );
    assert_eq!(data["qualifyLead"]["account"]["customFields"], json!([]));
}

#[tokio::test]
async fn no_custom_field_can_take_the_name_of_a_field_the_schema_has() {
    use entity::RecordType;
    use leadq::domain::custom_field::standard_field_names;
    let app = spawn_app().await;
    for (record_type, types) in [
        (
            RecordType::Lead,
            &["Lead", "CreateLeadInput", "UpdateLeadInput"][..],
        ),
        (RecordType::Account, &["Account", "CreateAccountInput"][..]),
        (RecordType::Contact, &["Contact", "CreateContactInput"][..]),
        (RecordType::Opportunity, &["Opportunity"][..]),
    ] {
        for name in types {
            let data = app
                .ok(
                    "query($name: String!) { __type(name: $name) {
                        fields { name } inputFields { name } } }",
                    json!({ "name": name }),
                )
                .await;
            let t = &data["__type"];
            let fields = t["fields"]
                .as_array()
                .or(t["inputFields"].as_array())
                .unwrap();
            for field in fields {
                let field = field["name"].as_str().unwrap();
                assert!(
                    standard_field_names(record_type).contains(&field),
                    "{name}.{field} is missing from the names custom fields may not take"
                );
            }
        }
    }
}

#[tokio::test]
async fn leads_filter_on_custom_values_by_equality_and_ranges() {
    let app = spawn_app().await;
    for input in [
        json!({ "recordType": "LEAD", "name": "seats", "label": "Seats", "type": "INTEGER" }),
        json!({ "recordType": "LEAD", "name": "since", "label": "Since", "type": "DATE" }),
        json!({ "recordType": "LEAD", "name": "tier", "label": "Tier", "type": "CHOICE",
                "options": ["GOLD", "SILVER"] }),
    ] {
        field(&app, input).await;
    }
    let mut ids = Vec::new();
    for (i, (seats, since, tier)) in [
        (5, "2026-01-10", "GOLD"),
        (50, "2026-03-01", "SILVER"),
        (500, "2026-06-15", "GOLD"),
    ]
    .into_iter()
    .enumerate()
    {
        let lead = lead_with(
            &app,
            json!({ "lastName": format!("F{i}"), "customFields": [
                { "name": "seats", "value": seats }, { "name": "since", "value": since },
                { "name": "tier", "value": tier } ] }),
        )
        .await;
        ids.push(lead["id"].clone());
    }
    let found = |filter: Value| {
        let app = &app;
        async move {
            let data = app
                .ok(
                    "query($filter: LeadFilter) { leads(filter: $filter, first: 50) {
                        totalCount edges { node { id } } } }",
                    json!({ "filter": { "customFields": filter } }),
                )
                .await;
            let mut got: Vec<Value> = data["leads"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].clone())
                .collect();
            got.sort_by_key(|v| v.as_str().unwrap().to_owned());
            got
        }
    };
    let sorted = |mut v: Vec<Value>| {
        v.sort_by_key(|v| v.as_str().unwrap().to_owned());
        v
    };
    assert_eq!(
        found(json!([{ "name": "tier", "equals": "GOLD" }])).await,
        sorted(vec![ids[0].clone(), ids[2].clone()])
    );
    assert_eq!(
        found(json!([{ "name": "seats", "min": 10, "max": 500 }])).await,
        sorted(vec![ids[1].clone(), ids[2].clone()])
    );
    assert_eq!(
        found(json!([{ "name": "since", "max": "2026-03-01" },
                     { "name": "tier", "equals": "GOLD" }]))
        .await,
        vec![ids[0].clone()]
    );
    assert_eq!(
        found(json!([{ "name": "seats", "equals": 7 }])).await,
        Vec::<Value>::new()
    );
}

#[tokio::test]
async fn accounts_and_contacts_take_custom_values_on_create() {
    let app = spawn_app().await;
    field(
        &app,
        json!({ "recordType": "ACCOUNT", "name": "employees", "label": "Employees",
                "type": "INTEGER", "required": true }),
    )
    .await;
    field(
        &app,
        json!({ "recordType": "CONTACT", "name": "birthday", "label": "Birthday",
                "type": "DATE" }),
    )
    .await;
    let body = app
        .graphql(
            "mutation { createAccount(input: { name: \"No Count\" }) { account { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_field(&body), "customFields.employees", "{body:#}");
    let data = app
        .ok(
            &format!(
                "mutation {{ createAccount(input: {{ name: \"Counted\",
                    customFields: [{{ name: \"employees\", value: 250 }}] }}) {{
                    account {{ {CUSTOM} }} }} }}"
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        values(&data["createAccount"]["account"]),
        json!({ "employees": 250 })
    );
    let data = app
        .ok(
            &format!(
                "mutation {{ createContact(input: {{ lastName: \"Born\",
                    customFields: [{{ name: \"birthday\", value: \"1990-05-17\" }}] }}) {{
                    contact {{ {CUSTOM} }} }} }}"
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        values(&data["createContact"]["contact"]),
        json!({ "birthday": "1990-05-17" })
    );
}

#[tokio::test]
async fn a_new_lead_takes_custom_values_from_its_existing_contact_through_the_mappings() {
    let app = spawn_app().await;
    for record_type in ["LEAD", "CONTACT"] {
        field(
            &app,
            json!({ "recordType": record_type, "name": "language", "label": "Language",
                    "type": "TEXT", "maxLength": 20 }),
        )
        .await;
    }
    map(&app, "CONTACT", "language", "language").await;
    let data = app
        .ok(
            "mutation { createContact(input: { lastName: \"Speaker\",
                customFields: [{ name: \"language\", value: \"Gaelic\" }] }) { contact { id } } }",
            json!({}),
        )
        .await;
    let contact = data["createContact"]["contact"]["id"].clone();
    let lead = lead_with(&app, json!({ "existingContactId": contact })).await;
    assert_eq!(values(&lead), json!({ "language": "Gaelic" }));
    // A given value is never overwritten.
    let lead = lead_with(
        &app,
        json!({ "existingContactId": contact,
                "customFields": [{ "name": "language", "value": "Welsh" }] }),
    )
    .await;
    assert_eq!(values(&lead), json!({ "language": "Welsh" }));
}

#[tokio::test]
async fn the_custom_value_filter_is_answered_by_the_value_indexes() {
    use entity::lead;
    use leadq::service::leads::{CustomFilter, LeadFilter, Projection, filter_condition};
    use sea_orm::{
        ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait, Statement,
        TransactionTrait,
    };
    let app = spawn_app().await;
    field(
        &app,
        json!({ "recordType": "LEAD", "name": "tier", "label": "Tier", "type": "TEXT" }),
    )
    .await;
    field(
        &app,
        json!({ "recordType": "LEAD", "name": "seats", "label": "Seats", "type": "INTEGER" }),
    )
    .await;
    let backend = app.db.backend();
    for (projection, index) in [
        (
            Projection::Text("GOLD".to_owned()),
            "ix_custom_field_values_text",
        ),
        (
            Projection::Number(rust_decimal::Decimal::from(10)),
            "ix_custom_field_values_number",
        ),
    ] {
        let name = if index.ends_with("text") {
            "tier"
        } else {
            "seats"
        };
        let filter = LeadFilter {
            custom_fields: vec![CustomFilter {
                name: name.to_owned(),
                equals: Some(projection),
                ..Default::default()
            }],
            ..Default::default()
        };
        let query = lead::Entity::find()
            .filter(filter_condition(backend, &filter))
            .build(backend);
        let plan: Vec<String> = match backend {
            DbBackend::Sqlite => {
                let explain = Statement::from_sql_and_values(
                    backend,
                    format!("EXPLAIN QUERY PLAN {}", query.sql),
                    query.values.unwrap().0,
                );
                app.db
                    .read
                    .query_all_raw(explain)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.try_get::<String>("", "detail").unwrap())
                    .collect()
            }
            _ => {
                // Tiny tables are scanned by preference; forbid that to see whether the index
                // fits.
                let txn = app.db.read.begin().await.unwrap();
                txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                    .await
                    .unwrap();
                let explain = Statement::from_sql_and_values(
                    backend,
                    format!("EXPLAIN {}", query.sql),
                    query.values.unwrap().0,
                );
                let rows = txn.query_all_raw(explain).await.unwrap();
                txn.rollback().await.unwrap();
                rows.iter()
                    .map(|r| r.try_get::<String>("", "QUERY PLAN").unwrap())
                    .collect()
            }
        };
        let plan = plan.join("\n");
        assert!(plan.contains(index), "{index} unused:\n{plan}");
        assert!(
            !plan.lines().any(|l| l.trim() == "SCAN custom_field_values"),
            "{plan}"
        );
    }
}

const TOGGLE: &str = "mutation($id: ID!, $enabled: Boolean!) { setFieldMappingEnabled(input:
    { id: $id, enabled: $enabled }) { mapping { enabled } } }";

async fn standard_row(app: &TestApp, target: &str, target_field: &str) -> Value {
    let listed = app
        .ok(
            "{ fieldMappings { id target sourceField targetField standard enabled } }",
            json!({}),
        )
        .await;
    listed["fieldMappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["target"] == target && r["targetField"] == target_field && r["standard"] == true
        })
        .cloned()
        .unwrap_or_else(|| panic!("no standard mapping onto {target}.{target_field}"))
}

async fn add_refused(app: &TestApp, target: &str, source: &str, target_field: &str) -> Value {
    let body = app
        .graphql(
            ADD_MAPPING,
            json!({ "input": { "target": target, "sourceField": source,
                               "targetField": target_field } }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        "BAD_USER_INPUT",
        "{source} → {target_field}: {body:#}"
    );
    body
}

#[tokio::test]
async fn added_mappings_fill_standard_fields_once_their_own_mapping_is_disabled() {
    let app = spawn_app().await;
    field(
        &app,
        json!({ "recordType": "LEAD", "name": "legalName", "label": "Legal name", "type": "TEXT",
                "maxLength": 120 }),
    )
    .await;
    field(
        &app,
        json!({ "recordType": "LEAD", "name": "dealSize", "label": "Deal size",
                "type": "DECIMAL" }),
    )
    .await;
    field(
        &app,
        json!({ "recordType": "LEAD", "name": "remarks", "label": "Remarks", "type": "TEXT",
                "maxLength": 80 }),
    )
    .await;
    field(
        &app,
        json!({ "recordType": "LEAD", "name": "vip", "label": "VIP", "type": "BOOLEAN" }),
    )
    .await;

    // A standard field filled by its enabled standard mapping takes no second one.
    let body = add_refused(&app, "ACCOUNT", "legalName", "name").await;
    assert_eq!(error_field(&body), "targetField", "{body:#}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("disable"),
        "{body:#}"
    );
    // Types are checked as for custom targets; an e-mail field takes only the lead's email;
    // the opportunity's account comes from the resulting account only.
    for (target, source, target_field, field_name) in [
        ("OPPORTUNITY", "vip", "budgetAmount", "sourceField"),
        ("ACCOUNT", "remarks", "email", "sourceField"),
        ("CONTACT", "companyName", "mobilePhone", "sourceField"),
        ("OPPORTUNITY", "legalName", "account", "targetField"),
        ("ACCOUNT", "legalName", "fax", "targetField"),
    ] {
        let body = add_refused(&app, target, source, target_field).await;
        assert_eq!(
            error_field(&body),
            field_name,
            "{source} → {target_field}: {body:#}"
        );
    }

    // The account's name from the legal name, its e-mail (no standard mapping) from the
    // lead's, the opportunity's budget from the deal size.
    let name = standard_row(&app, "ACCOUNT", "name").await;
    app.ok(TOGGLE, json!({ "id": name["id"], "enabled": false }))
        .await;
    let legal = map(&app, "ACCOUNT", "legalName", "name").await;
    assert_eq!(legal["standard"], false);
    map(&app, "ACCOUNT", "email", "email").await;
    let budget = standard_row(&app, "OPPORTUNITY", "budgetAmount").await;
    app.ok(TOGGLE, json!({ "id": budget["id"], "enabled": false }))
        .await;
    map(&app, "OPPORTUNITY", "dealSize", "budgetAmount").await;

    // The standard name mapping cannot come back while the added one fills the field.
    let body = app
        .graphql(TOGGLE, json!({ "id": name["id"], "enabled": true }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
    assert_eq!(error_field(&body), "id", "{body:#}");

    let records = "outcome account { name email } opportunities { budgetAmount }";
    let lead = lead_with(
        &app,
        json!({ "companyName": "Contoso", "email": "buyer@contoso.example",
                "budgetAmount": "99",
                "customFields": [{ "name": "legalName", "value": "Contoso Holdings Ltd." },
                                 { "name": "dealSize", "value": "125000.5" }] }),
    )
    .await;
    let preview = app
        .ok(
            "query($input: QualifyLeadInput!) { previewQualification(input: $input) {
                account { fields { field sourceField value } } } }",
            json!({ "input": { "leadId": lead["id"] } }),
        )
        .await["previewQualification"]
        .clone();
    assert!(
        preview["account"]["fields"]
            .as_array()
            .unwrap()
            .contains(&json!({
            "field": "Account Name", "sourceField": "Legal name",
            "value": "Contoso Holdings Ltd." })),
        "{preview:#}"
    );
    let data = app
        .ok(
            &format!(
                "mutation($input: QualifyLeadInput!) {{ qualifyLead(input: $input) {{ {records} }} }}"
            ),
            json!({ "input": { "leadId": lead["id"] } }),
        )
        .await;
    let qualified = &data["qualifyLead"];
    assert_eq!(qualified["outcome"], "QUALIFIED", "{data:#}");
    assert_eq!(qualified["account"]["name"], "Contoso Holdings Ltd.");
    assert_eq!(qualified["account"]["email"], "buyer@contoso.example");
    assert_eq!(qualified["opportunities"][0]["budgetAmount"], "125000.50");

    // In bulk: a lead without a legal name keeps its company as the account's name; a deal size
    // that is no money amount refuses that lead alone, with the field named.
    let plain = lead_with(
        &app,
        json!({ "companyName": "Plain Co", "lastName": "Plain" }),
    )
    .await;
    let odd = lead_with(
        &app,
        json!({ "companyName": "Odd Co", "lastName": "Odd",
                "customFields": [{ "name": "dealSize", "value": "-3" }] }),
    )
    .await;
    let bulk = app
        .ok(
            &format!(
                "mutation($input: QualifyLeadsInput!) {{ qualifyLeads(input: $input) {{
                    qualifiedCount results {{ leadId {records}
                    error {{ code field }} }} }} }}"
            ),
            json!({ "input": { "leadIds": [plain["id"], odd["id"]] } }),
        )
        .await["qualifyLeads"]
        .clone();
    assert_eq!(bulk["qualifiedCount"], 1, "{bulk:#}");
    let results = bulk["results"].as_array().unwrap();
    let plain_result = results.iter().find(|r| r["leadId"] == plain["id"]).unwrap();
    assert_eq!(plain_result["account"]["name"], "Plain Co", "{bulk:#}");
    assert_eq!(
        plain_result["opportunities"][0]["budgetAmount"],
        Value::Null
    );
    let odd_result = results.iter().find(|r| r["leadId"] == odd["id"]).unwrap();
    assert_eq!(odd_result["error"]["code"], "BAD_USER_INPUT", "{bulk:#}");
    assert_eq!(odd_result["error"]["field"], "budgetAmount", "{bulk:#}");
    let state = app
        .ok(
            "query($id: ID!) { lead(id: $id) { state } }",
            json!({ "id": odd["id"] }),
        )
        .await;
    assert_eq!(
        state["lead"]["state"], "OPEN",
        "nothing written for the refused lead"
    );

    // Removed, the standard mapping is back and fills the name again.
    app.ok(
        "mutation($id: ID!) { removeFieldMapping(input: { id: $id }) { mapping { id } } }",
        json!({ "id": legal["id"] }),
    )
    .await;
    app.ok(TOGGLE, json!({ "id": name["id"], "enabled": true }))
        .await;
    let lead = lead_with(
        &app,
        json!({ "companyName": "Back Co", "lastName": "Back",
                "customFields": [{ "name": "legalName", "value": "Back Holdings" }] }),
    )
    .await;
    let data = app
        .ok(
            "mutation($input: QualifyLeadInput!) { qualifyLead(input: $input) {
                account { name } } }",
            json!({ "input": { "leadId": lead["id"] } }),
        )
        .await;
    assert_eq!(data["qualifyLead"]["account"]["name"], "Back Co");
}

#[tokio::test]
async fn required_custom_fields_of_created_records_must_be_filled_by_the_mappings() {
    let app = spawn_app().await;
    field(
        &app,
        json!({ "recordType": "OPPORTUNITY", "name": "region", "label": "Sales region",
                "type": "CHOICE", "options": ["EMEA", "AMER"], "required": true }),
    )
    .await;
    let lead = lead_with(
        &app,
        json!({ "lastName": "Needs", "companyName": "Region Co" }),
    )
    .await;
    let qualify = "mutation($input: QualifyLeadInput!) { qualifyLead(input: $input) {
        outcome opportunities { customFields { name value } } } }";

    // Nothing fills it: refused, naming the field, and the preview says so before.
    let preview = app
        .ok(
            "query($input: QualifyLeadInput!) { previewQualification(input: $input) {
                error { code field } } }",
            json!({ "input": { "leadId": lead["id"] } }),
        )
        .await;
    assert_eq!(
        preview["previewQualification"]["error"],
        json!({ "code": "BAD_USER_INPUT", "field": "customFields.region" }),
        "{preview:#}"
    );
    let body = app
        .graphql(qualify, json!({ "input": { "leadId": lead["id"] } }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
    assert_eq!(error_field(&body), "customFields.region", "{body:#}");
    let counts = app
        .ok("{ accounts(first: 10) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        counts["accounts"]["totalCount"], 0,
        "nothing half-written: {counts:#}"
    );

    // Mapped from a lead field: a lead with the value qualifies, one without is refused.
    field(
        &app,
        json!({ "recordType": "LEAD", "name": "region", "label": "Region",
                "type": "CHOICE", "options": ["EMEA", "AMER"] }),
    )
    .await;
    map(&app, "OPPORTUNITY", "region", "region").await;
    let with = lead_with(
        &app,
        json!({ "lastName": "Has", "companyName": "Has Co",
                "customFields": [{ "name": "region", "value": "EMEA" }] }),
    )
    .await;
    let data = app
        .ok(qualify, json!({ "input": { "leadId": with["id"] } }))
        .await;
    assert_eq!(data["qualifyLead"]["outcome"], "QUALIFIED");
    assert_eq!(
        values(&data["qualifyLead"]["opportunities"][0]),
        json!({ "region": "EMEA" })
    );
    let body = app
        .graphql(qualify, json!({ "input": { "leadId": lead["id"] } }))
        .await;
    assert_eq!(error_field(&body), "customFields.region", "{body:#}");

    // Optional again: the lead without a region qualifies.
    let definitions = app
        .ok(
            "{ customFieldDefinitions(recordType: OPPORTUNITY) { id } }",
            json!({}),
        )
        .await;
    app.ok(
        "mutation($input: UpdateCustomFieldInput!) { updateCustomField(input: $input) {
            definition { required } } }",
        json!({ "input": { "id": definitions["customFieldDefinitions"][0]["id"],
                           "required": false } }),
    )
    .await;
    let data = app
        .ok(qualify, json!({ "input": { "leadId": lead["id"] } }))
        .await;
    assert_eq!(data["qualifyLead"]["outcome"], "QUALIFIED");
}

#[tokio::test]
async fn custom_values_of_any_record_change_after_creation_checked_owned_and_audited() {
    let app = spawn_app().await;
    field(
        &app,
        json!({ "recordType": "ACCOUNT", "name": "employees", "label": "Employees",
                "type": "INTEGER", "required": true }),
    )
    .await;
    field(
        &app,
        json!({ "recordType": "ACCOUNT", "name": "tier", "label": "Tier", "type": "CHOICE",
                "options": ["GOLD", "SILVER"] }),
    )
    .await;
    let account = app
        .create_account(json!({ "name": "Fabrikam",
                                "customFields": [{ "name": "employees", "value": 40 }] }))
        .await;
    let set = "mutation($input: SetCustomFieldValuesInput!) { setCustomFieldValues(input: $input) {
        recordId recordType customFields { name value } } }";

    let data = app
        .ok(
            set,
            json!({ "input": { "recordId": account, "customFields": [
                { "name": "employees", "value": 45 }, { "name": "tier", "value": "GOLD" }] } }),
        )
        .await;
    let payload = &data["setCustomFieldValues"];
    assert_eq!(payload["recordType"], "ACCOUNT");
    assert_eq!(values(payload), json!({ "employees": 45, "tier": "GOLD" }));

    // Bad values, unknown fields and clearing a required one are refused, naming the field;
    // nothing changes.
    for (input, field_name) in [
        (
            json!([{ "name": "tier", "value": "BRONZE" }]),
            "customFields.tier",
        ),
        (
            json!([{ "name": "employees", "value": null }]),
            "customFields.employees",
        ),
        (
            json!([{ "name": "nothing", "value": 1 }]),
            "customFields.0.name",
        ),
        (json!([]), "customFields"),
    ] {
        let body = app
            .graphql(
                set,
                json!({ "input": { "recordId": account, "customFields": input } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
        assert_eq!(error_field(&body), field_name, "{body:#}");
    }
    // Clearing an optional one works; the others stay.
    let data = app
        .ok(
            set,
            json!({ "input": { "recordId": account,
                               "customFields": [{ "name": "tier", "value": null }] } }),
        )
        .await;
    assert_eq!(
        values(&data["setCustomFieldValues"]),
        json!({ "employees": 45 })
    );

    // Someone else's account: a salesperson may not change it; an unknown id is NOT_FOUND.
    let (_, seller) = app.user("seller", &[Role::Salesperson]).await;
    let body = app
        .graphql_as(
            &seller,
            set,
            json!({ "input": { "recordId": account,
                               "customFields": [{ "name": "tier", "value": "GOLD" }] } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    let body = app
        .graphql(
            set,
            json!({ "input": { "recordId": "019ad000-0000-7000-8000-00000000dead",
                               "customFields": [{ "name": "tier", "value": "GOLD" }] } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body:#}");

    let events = app
        .ok(
            "query($id: ID!) { auditEvents(recordId: $id) { action changes } }",
            json!({ "id": account }),
        )
        .await;
    let updates: Vec<&Value> = events["auditEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "UPDATED")
        .collect();
    assert_eq!(updates.len(), 2, "{events:#}");
    assert!(
        updates
            .iter()
            .any(|e| e["changes"]["customFields"] == json!({ "employees": 45, "tier": "GOLD" })),
        "{events:#}"
    );
}

#[tokio::test]
async fn a_new_lead_takes_a_custom_value_from_its_existing_account_through_a_mapping_onto_a_standard_field()
 {
    let app = spawn_app().await;
    field(
        &app,
        json!({ "recordType": "LEAD", "name": "legalName", "label": "Legal name", "type": "TEXT",
                "maxLength": 160 }),
    )
    .await;
    let name = standard_row(&app, "ACCOUNT", "name").await;
    app.ok(TOGGLE, json!({ "id": name["id"], "enabled": false }))
        .await;
    map(&app, "ACCOUNT", "legalName", "name").await;
    let account = app
        .create_account(json!({ "name": "Litware Holdings" }))
        .await;
    let lead = lead_with(&app, json!({ "existingAccountId": account })).await;
    assert_eq!(values(&lead), json!({ "legalName": "Litware Holdings" }));
    // A given value is never overwritten.
    let lead = lead_with(
        &app,
        json!({ "existingAccountId": account,
                "customFields": [{ "name": "legalName", "value": "Litware Ltd" }] }),
    )
    .await;
    assert_eq!(values(&lead), json!({ "legalName": "Litware Ltd" }));
}
