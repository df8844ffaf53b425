package credential

import "github.com/cozeauth/cozeauth/internal/store"

// Listing is how a credential is shown in lists: never its token or hash.
// Times are Unix seconds; last_used_at is -1 when never used, expire_at -1
// when permanent.
type Listing struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Kind          string   `json:"kind"`
	AccountType   string   `json:"account_type"`
	AccountID     string   `json:"account_id"`
	EnterpriseID  string   `json:"enterprise_id,omitempty"`
	UserID        string   `json:"user_id,omitempty"`
	Permissions   []string `json:"permissions"`
	WorkspaceMode string   `json:"workspace_option"` // "all" or "selected"
	WorkspaceIDs  []string `json:"workspace_ids"`
	CreatedAt     int64    `json:"created_at"`
	UpdatedAt     int64    `json:"updated_at"`
	LastUsedAt    int64    `json:"last_used_at"`
	ExpireAt      int64    `json:"expire_at"`
}

// OrMinusOne maps the store's 0 ("never", "permanent") to the API's -1.
func OrMinusOne(t int64) int64 {
	if t == 0 {
		return -1
	}
	return t
}

// Describe returns the listing of c.
func Describe(c store.Credential) Listing {
	l := Listing{
		ID: c.ID, Name: c.Name, Kind: string(c.Kind), AccountType: string(c.Owner.Type), AccountID: c.Owner.ID,
		UserID: c.UserID, Permissions: c.Permissions, WorkspaceMode: "selected", WorkspaceIDs: c.WorkspaceIDs,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, LastUsedAt: OrMinusOne(c.LastUsedAt), ExpireAt: OrMinusOne(c.ExpireAt),
	}
	if c.Owner.Type == store.OwnerEnterprise {
		l.EnterpriseID = c.Owner.ID
	}
	if c.AllWorkspaces {
		l.WorkspaceMode = "all"
	}
	if l.Permissions == nil {
		l.Permissions = []string{}
	}
	if l.WorkspaceIDs == nil {
		l.WorkspaceIDs = []string{}
	}
	return l
}
