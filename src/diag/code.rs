//! The stable codes of every diagnostic mailc reports. A code never changes
//! meaning once released; tools match on it.

macro_rules! codes {
    ($($variant:ident => $code:literal, $what:literal;)*) => {
        /// A diagnostic's stable identity.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as printed: `mailc::topic::name`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// One sentence on what the code means.
            pub const fn describe(self) -> &'static str {
                match self {
                    $(Code::$variant => $what,)*
                }
            }
        }
    };
}

codes! {
    Io => "mailc::io", "the spec file could not be read";
    Syntax => "mailc::syntax", "the file is not valid YAML or KDL";
    KdlV1 => "mailc::syntax::kdl_v1", "KDL 1 syntax in a KDL 2 document";
    UnknownKey => "mailc::key::unknown", "a key the spec language does not have";
    MissingKey => "mailc::key::missing", "a required key is absent";
    DuplicateKey => "mailc::key::duplicate", "the same key is given twice";
    Type => "mailc::value::type", "a value of the wrong kind (string, number, list, map)";
    ValueSize => "mailc::value::size", "a value longer than any spec needs";
    ControlChar => "mailc::value::control_char", "a control character inside a value";
    BadEnum => "mailc::value::choice", "a value outside the allowed choices";
    Version => "mailc::version", "an unsupported spec version";
    DomainName => "mailc::name::domain", "an invalid domain name";
    HostName => "mailc::name::hostname", "an invalid host name";
    HostKey => "mailc::name::host_key", "an invalid host key";
    LocalPart => "mailc::name::local_part", "an invalid local part";
    Address => "mailc::name::address", "an invalid e-mail address";
    DuplicateDomain => "mailc::domain::duplicate", "a domain defined twice";
    DuplicateHostname => "mailc::host::duplicate_hostname", "two hosts share a hostname";
    IpAddress => "mailc::host::ip", "an invalid IP address or network";
    Quota => "mailc::mailbox::quota", "an invalid quota";
    DuplicateRecipient => "mailc::recipient::duplicate", "a local part that means two things";
    UnknownTarget => "mailc::alias::unknown_target", "an alias target that names nothing";
    AliasCycle => "mailc::alias::cycle", "aliases that lead back to themselves";
    AliasExpansion => "mailc::alias::expansion", "aliases that would list more addresses in all than mailc allows";
    EmptyAlias => "mailc::alias::empty", "an alias with no targets";
    EmptyCondition => "mailc::rule::empty_condition", "a rule condition that compares nothing, or an empty list of conditions";
    RuleValue => "mailc::rule::value", "a rule value that cannot be used: a size, folder, header name or text";
    RuleTarget => "mailc::rule::unknown_target", "a rule forwarding to an address of our domains that names nothing";
    RuleLoop => "mailc::rule::loop", "rules and aliases that forward mail back to where it came from";
    Vacation => "mailc::vacation::value", "an autoresponder value out of range";
    SendOnlyTarget => "mailc::alias::send_only", "an alias whose only target receives nothing";
    MailboxService => "mailc::mailbox::service", "a mailbox service its domain does not offer";
    MailOffTarget => "mailc::alias::mail_off", "an alias, catch-all or rule target in a domain whose mail service is off";
    UnknownHost => "mailc::host::unknown", "a reference to a host the spec does not define";
    DuplicateMx => "mailc::mx::duplicate", "the same MX host listed twice";
    RoutingTwoLocal => "mailc::routing::split", "two hosts local for one domain";
    RoutingNoPrimary => "mailc::routing::no_primary", "a backup with no primary to relay to";
    RoutingLoop => "mailc::routing::loop", "routing that makes mail loop";
    RoutingNoMx => "mailc::routing::null_mx", "routing given for a domain that receives no mail";
    PlaintextPassword => "mailc::password::plaintext", "a password that is not a hash";
    PasswordScheme => "mailc::password::scheme", "a password hash in an unsupported scheme";
    PasswordPrefix => "mailc::password::prefix", "a crypt hash without its `{SCHEME}` prefix";
    PasswordCost => "mailc::password::cost", "a password hash too costly to check, or too cheap to guess";
    SpfLookups => "mailc::spf::lookups", "an SPF record over the 10-lookup limit";
    SpfTerm => "mailc::spf::term", "an invalid SPF term";
    SpfRecord => "mailc::spf::record", "an SPF record given whole that cannot be written: not `v=spf1 ...`, not ASCII, an unknown mechanism, or beside other SPF keys";
    SpfPtr => "mailc::spf::ptr", "an SPF `ptr` term, which RFC 7208 says not to use";
    DkimSelector => "mailc::dkim::selector", "an invalid DKIM selector";
    DkimKeySource => "mailc::dkim::key_source", "a DKIM key without exactly one of private_key / public_key";
    DkimKeySize => "mailc::dkim::key_size", "a DKIM key that is too small";
    DkimPublicKey => "mailc::dkim::public_key", "a DKIM public key that cannot be read";
    DkimKeyMissing => "mailc::dkim::key_missing", "a DKIM private key file that does not exist yet";
    DkimKeyPath => "mailc::dkim::key_path", "a DKIM key path that is not safe";
    DkimKeyFile => "mailc::dkim::key_file", "a DKIM private key file that cannot be read or holds no usable key";
    DuplicateSelector => "mailc::dkim::duplicate_selector", "a DKIM selector used twice";
    DkimState => "mailc::dkim::state", "a DKIM key state that cannot be: `state` beside `sign`, or a key held elsewhere signing";
    DkimNoSigner => "mailc::dkim::no_signer", "a domain whose last signing DKIM key was retired or revoked";
    Dmarc => "mailc::dmarc::value", "a DMARC value out of range";
    DmarcMissing => "mailc::dmarc::missing", "a published domain without DMARC";
    MtaSts => "mailc::mta_sts::value", "an MTA-STS value out of range";
    TlsRpt => "mailc::tls_rpt::value", "a TLS-RPT value out of range";
    ReportUri => "mailc::report_uri", "a report address that is not a mailto: or https: URI";
    Ttl => "mailc::ttl", "a TTL out of range";
    Nameservers => "mailc::zone::nameservers", "a published zone without nameservers or hostmaster";
    Zone => "mailc::zone::integrity", "a zone DNS servers would refuse: an in-zone MX, NS or SRV name without an address, data hidden below a delegation";
    Record => "mailc::record::value", "a DNS record value that cannot be written safely";
    RecordType => "mailc::record::type", "a DNS record type mailc does not write";
    RecordCollision => "mailc::record::collision", "a record that collides with one mailc writes";
    Bounce => "mailc::unknown_recipients::bounce", "bounce sends backscatter";
    Relay => "mailc::unknown_recipients::relay", "an invalid relay destination";
    CatchAllTarget => "mailc::unknown_recipients::target", "a catch-all target that names nothing";
    SrsWithoutForward => "mailc::srs::unused", "SRS on a domain that forwards nothing";
    ForwardWithoutSrs => "mailc::srs::missing", "mail forwarded to outside addresses without SRS";
    MxPrivateAddress => "mailc::mx::private_address", "an MX host on a private, loopback, link-local or shared address";
    BackupAcceptsNothing => "mailc::routing::backup_accepts_nothing", "a backup MX of an outside primary that knows no recipient";
    DnsTarget => "mailc::dns::target", "a DNS target that cannot be used: a bad server address, URL, key name or secret file path";
    DnsTargetUnknown => "mailc::dns::unknown_target", "a domain pushed to a DNS target the spec does not define";
    DnsUnpublished => "mailc::dns::unpublished", "a zone pushed to a DNS target although the spec does not publish it";
    RelayInvalid => "mailc::relay::invalid", "an outbound relay that cannot be used: a bad host, a user name without a password file or the other way round, an unsafe secret path";
    RelayCleartextAuth => "mailc::relay::cleartext_auth", "relay credentials without TLS required: the password would cross the network in clear";
    RelayUnknown => "mailc::relay::unknown", "a host naming an outbound relay the spec does not define";
    RelaySender => "mailc::relay::sender", "a relay sender that is not a domain or address of the spec, or is given to two relays";
    RelayUnused => "mailc::relay::unused", "an outbound relay no host and no sender uses";
    SendLimit => "mailc::limits::zero", "a sending limit of zero: nothing could be sent";
    TestInvalid => "mailc::test::invalid", "an expectation of `tests` that contradicts itself, expects nothing or names nothing the spec defines";
    TestFailed => "mailc::test::failed", "an expectation the compiled spec or a live server does not meet";
    Include => "mailc::include", "an included file that cannot be found or read, a glob that matches nothing, or a key an included file cannot set";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
