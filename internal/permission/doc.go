// Package permission holds the permission catalog (an embedded data file) and
// the authorization decision of PRODUCT.md as one pure function, Decide. Every
// credential kind (PAT, SAT, OAuth grants) is reduced to a Credential value and
// evaluated by the same function, so behaviour such as the enterprise-upgrade
// migration falls out of the data, not of special cases.
package permission
