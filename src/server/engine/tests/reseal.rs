//! Re-sealing on the server (`POST /v1/reseal`, SPEC §4.6): a value sealed for an earlier seal
//! identity comes back sealed for the given recipients, for its own place only; a value sealed
//! for another place, or one no identity opens, refuses the whole request.

use super::each_backend;
use crate::secrets::{Keys, Place, seal};
use crate::server::engine::{EngineError, Settings};
use crate::wire::admin::{MAX_RESEAL_VALUES, ResealRequest, ResealValue};

fn value(name: &str, key: &str, sealed: String) -> ResealValue {
    ResealValue {
        key: key.to_owned(),
        name: name.to_owned(),
        namespace: "default".to_owned(),
        sealed,
    }
}

#[test]
fn values_come_back_sealed_for_the_new_recipients_at_their_place_only() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
        let first: age::x25519::Recipient = engine.seal_recipient().parse().unwrap();
        let place = Place::new("default", "db", "pw");
        let old = seal("hunter2", &place, std::slice::from_ref(&first)).unwrap();
        engine.rotate_seal_identity().unwrap();
        let team = Keys::generate();
        let request = ResealRequest {
            recipients: vec![team.recipients()[0].to_string()],
            values: vec![value("db", "pw", old.clone())],
        };
        let sealed = engine.reseal(&request).unwrap();
        assert_eq!(sealed.len(), 1);
        let opened = team.unseal_for(&sealed[0], &place).unwrap();
        assert_eq!(opened.expose().as_str(), "hunter2");

        // Claimed for another place: refused, naming the code `rune lint` gives.
        let elsewhere = ResealRequest {
            values: vec![value("db", "pw", old.clone()), value("api", "pw", old)],
            ..request.clone()
        };
        match engine.reseal(&elsewhere) {
            Err(EngineError::Invalid(violations)) => {
                assert_eq!(violations.len(), 1, "{violations:?}");
                assert_eq!(violations[0].code.as_deref(), Some("E-SEALED-PLACE"));
                assert!(!violations[0].message.contains("hunter2"));
            }
            other => panic!("{other:?}"),
        }
        // Sealed for nobody here: refused.
        let foreign = seal("x", &place, &Keys::generate().recipients()).unwrap();
        let unopened = ResealRequest {
            values: vec![value("db", "pw", foreign)],
            ..request.clone()
        };
        assert!(matches!(
            engine.reseal(&unopened),
            Err(EngineError::Invalid(v)) if v[0].code.as_deref() == Some("W-SEALED-UNOPENED")
        ));
        // Bounds and recipients are checked before anything is opened.
        let many = ResealRequest {
            values: vec![value("db", "pw", String::new()); MAX_RESEAL_VALUES + 1],
            ..request.clone()
        };
        assert!(matches!(engine.reseal(&many), Err(EngineError::Request(_))));
        for recipients in [vec![], vec!["age1notarecipient".to_owned()]] {
            let bad = ResealRequest {
                recipients,
                ..request.clone()
            };
            assert!(matches!(engine.reseal(&bad), Err(EngineError::Request(_))));
        }
    });
}
