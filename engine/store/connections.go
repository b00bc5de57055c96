package store

import (
	"context"
	"fmt"
)

// CreateConnection inserts a connection. A taken name is ErrConflict.
func (s *Store) CreateConnection(ctx context.Context, c *Connection) error {
	if err := s.db.WithContext(ctx).Create(c).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("create connection %s: %w", c.Name, ErrConflict)
		}
		return fmt.Errorf("create connection %s: %w", c.Name, err)
	}
	return nil
}

// UpdateConnection replaces a connection's connector, config and secrets.
func (s *Store) UpdateConnection(ctx context.Context, c *Connection) error {
	res := s.db.WithContext(ctx).Model(&Connection{}).Where("id = ?", c.ID).Updates(map[string]any{
		"connector":  c.Connector,
		"config":     c.Config,
		"secrets":    c.Secrets,
		"updated_at": c.UpdatedAt,
	})
	if res.Error != nil {
		return fmt.Errorf("update connection %s: %w", c.Name, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update connection %s: %w", c.Name, ErrNotFound)
	}
	return nil
}

// ConnectionByName returns a connection by name.
func (s *Store) ConnectionByName(ctx context.Context, name string) (*Connection, error) {
	var c Connection
	if err := s.rdb.WithContext(ctx).Where("name = ?", name).Take(&c).Error; err != nil {
		return nil, fmt.Errorf("get connection %s: %w", name, notFound(err))
	}
	return &c, nil
}

// ListConnections returns every connection, by name.
func (s *Store) ListConnections(ctx context.Context) ([]Connection, error) {
	var out []Connection
	if err := s.rdb.WithContext(ctx).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return out, nil
}

// DeleteConnection deletes a connection by name.
func (s *Store) DeleteConnection(ctx context.Context, name string) error {
	res := s.db.WithContext(ctx).Where("name = ?", name).Delete(&Connection{})
	if res.Error != nil {
		return fmt.Errorf("delete connection %s: %w", name, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete connection %s: %w", name, ErrNotFound)
	}
	return nil
}
